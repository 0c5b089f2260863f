"""Every instruction-set level computes the same bits, and large outputs are
streamed without changing a bit.

The loops are compiled for AVX-512, AVX2 and the baseline (src/ufuncs/isa.hpp);
the best one the CPU supports runs unless ACTGRAD_CPU names a lower one.
Here every ufunc runs on every level this machine supports, and each result
must equal the baseline's bit for bit (the baseline is the scalar reference:
its loops are not vectorised where the kernels call std::fma).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from actgrad import _ufuncs

from .conftest import dtype_id, specials

SUPPORTED = _ufuncs._supported_isas()
ELEMENTWISE = sorted(name for name in dir(_ufuncs)
                     if isinstance(getattr(_ufuncs, name), np.ufunc)
                     and getattr(_ufuncs, name).signature is None)
GUFUNCS = sorted(name for name in dir(_ufuncs)
                 if isinstance(getattr(_ufuncs, name), np.ufunc)
                 and getattr(_ufuncs, name).signature is not None)
DTYPES = [pytest.param(dt, id=dtype_id(dt)) for dt in (np.float16, np.float32, np.float64)]


def _inputs(dtype, n=3000, seed=0):
    """Special values, every magnitude, and the range where the kernels switch
    formulas (|x| < 40), in a random order."""
    rng = np.random.default_rng(seed)
    info = np.finfo(dtype)
    mags = np.exp(rng.uniform(np.log(float(info.tiny)), np.log(float(info.max)), n // 3))
    near = rng.uniform(-40, 40, n - n // 3)
    x = np.concatenate([specials(dtype), mags, -mags, near]).astype(dtype)
    return rng.permutation(x)


def _params(ufunc, dtype, n):
    """Parameter operands: broadcast scalars (uniform loop) and arrays (varying)."""
    k = ufunc.nin - (2 if ufunc.__name__.endswith("_backward") else 1)
    rng = np.random.default_rng(1)
    scalars = [0.5 + 0.25 * j for j in range(k)]
    arrays = [rng.uniform(0.1, 3.0, n) for _ in range(k)]
    if ufunc.__name__.startswith("hardtanh"):  # min_val <= max_val
        scalars = [-1.0, 2.0]
        arrays = [-arrays[0], arrays[1]]
    return scalars, arrays


def _call_all(ufunc, dtype):
    x = _inputs(dtype)
    scalars, arrays = _params(ufunc, dtype, x.size)
    arrays_in = (np.resize(x[::-1], x.size), x) if ufunc.__name__.endswith("_backward") else (x,)
    with np.errstate(all="ignore"):
        return [ufunc(*arrays_in, *scalars), ufunc(*arrays_in, *arrays),
                ufunc(*(a[::3] for a in arrays_in), *scalars)]  # strided: gathered blocks


@pytest.fixture
def restore_isa():
    previous = _ufuncs._get_isa()
    yield
    _ufuncs._set_isa(previous)


def _bits(a):
    """The bit patterns of a, every NaN as one pattern (the sign and payload of
    a NaN that an invalid operation makes differ between scalar and vector
    instructions; NumPy does not define them either)."""
    a = np.asarray(a)
    if a.dtype.kind != "f":
        return a
    bits = a.view(f"u{a.itemsize}").copy()
    bits[np.isnan(a)] = 1
    return bits


@pytest.mark.skipif(len(SUPPORTED) < 2, reason="one instruction set on this machine")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_isa_gives_the_baseline_bits(name, dtype, restore_isa):
    ufunc = getattr(_ufuncs, name)
    _ufuncs._set_isa("baseline")
    expected = _call_all(ufunc, dtype)
    for isa in SUPPORTED[1:]:
        _ufuncs._set_isa(isa)
        for got, want in zip(_call_all(ufunc, dtype), expected):
            np.testing.assert_array_equal(_bits(got), _bits(want), err_msg=f"{name} on {isa}")


@pytest.mark.skipif(len(SUPPORTED) < 2, reason="one instruction set on this machine")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", GUFUNCS)
def test_every_isa_gives_the_baseline_bits_along_an_axis(name, dtype, restore_isa):
    ufunc = getattr(_ufuncs, name)
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((7, 130)) * 30).astype(dtype)
    x[1, 5] = np.inf
    x[2] = -np.inf
    x[3, 7] = np.nan
    halves = x.reshape(7, 2, 65)
    args = {"glu": [halves], "glu_backward": [x[:, :65], halves],
            "prelu_backward": [x[:, None, :], x[::-1, None, :], np.full(1, 0.25, dtype)]
            }.get(name, [x] * ufunc.nin)
    _ufuncs._set_isa("baseline")
    with np.errstate(all="ignore"):
        expected = ufunc(*args)
        for isa in SUPPORTED[1:]:
            _ufuncs._set_isa(isa)
            got = ufunc(*args)
            for g, e in zip(got if isinstance(got, tuple) else (got,),
                            expected if isinstance(expected, tuple) else (expected,)):
                np.testing.assert_array_equal(_bits(g), _bits(e), err_msg=f"{name} on {isa}")


@pytest.mark.parametrize("name", ["relu_grad", "sigmoid", "relu_backward", "leaky_relu"])
@pytest.mark.parametrize("offset", [0, 1, 3])
def test_streamed_outputs_equal_small_calls(name, offset):
    # 5e6 float32 elements (20 MB) are above the streaming threshold; an
    # offset output is not 64-byte aligned, so the head is stored normally.
    ufunc = getattr(_ufuncs, name)
    n = 5_000_003
    x = np.random.default_rng(3).standard_normal(n).astype(np.float32)
    arrays = (x[::-1].copy(), x) if name.endswith("_backward") else (x,)
    params = (0.2,) * (ufunc.nin - len(arrays))
    buf = np.empty(n + offset, np.float32)
    out = buf[offset:]
    ufunc(*arrays, *params, out=out)
    step = 100_000  # far below the threshold: ordinary stores
    for start in range(0, n, step):
        part = ufunc(*(a[start:start + step] for a in arrays), *params)
        np.testing.assert_array_equal(_bits(out[start:start + step]), _bits(part))


def _import_with(value):
    env = dict(os.environ, ACTGRAD_CPU=value)
    return subprocess.run(
        [sys.executable, "-c", "import actgrad._ufuncs as u; print(u._get_isa())"],
        env=env, capture_output=True, text=True)


@pytest.mark.parametrize("isa", SUPPORTED)
def test_actgrad_cpu_selects_the_level(isa):
    result = _import_with(isa)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == isa


def test_actgrad_cpu_rejects_unknown_levels():
    result = _import_with("sse9")
    assert result.returncode != 0
    assert "ACTGRAD_CPU='sse9' is not an instruction set" in result.stderr


def test_set_isa_rejects_unknown_levels(restore_isa):
    with pytest.raises(ValueError, match="not an instruction set"):
        _ufuncs._set_isa("neon9")
    assert _ufuncs._get_isa() in SUPPORTED
    assert SUPPORTED[0] == "baseline"
