"""bfloat16 (ml_dtypes.bfloat16): computed in float32, rounded once.

The expectation is actgrad's float32 result rounded by ml_dtypes' own
float32 -> bfloat16 cast (an independent rounding), on all 65,536 bfloat16
bit patterns.
"""

import subprocess
import sys

import numpy as np
import pytest

import actgrad as ag
from actgrad.tests.conftest import CASE_FORM_PARAMS, call_form

ml_dtypes = pytest.importorskip("ml_dtypes")
BF16 = np.dtype(ml_dtypes.bfloat16)

ALL = np.arange(1 << 16, dtype=np.uint16).view(BF16)


def _same(got, want):
    """Bitwise equal, any NaN matching any NaN."""
    assert got.dtype == BF16, got.dtype
    g = got.view(np.uint16)
    with np.errstate(invalid="ignore"):  # NaN casts quietly
        w = want.astype(BF16).view(np.uint16)
    g_nan = np.isnan(got.astype(np.float32))
    w_nan = np.isnan(want.astype(np.float32))
    np.testing.assert_array_equal(g_nan, w_nan)
    bad = np.flatnonzero((g != w) & ~g_nan)
    assert bad.size == 0, (f"{bad.size} differ, e.g. x bits {bad[:5]}: "
                           f"got {g[bad[:5]]}, want {w[bad[:5]]}")


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_all_bfloat16_values(case, form):
    rng = np.random.default_rng(1)
    g = rng.standard_normal(ALL.size).astype(np.float32).astype(BF16)
    with np.errstate(all="ignore"):
        got = call_form(case, form, ALL, g)
        want = call_form(case, form, ALL.astype(np.float32), g.astype(np.float32))
    assert want.dtype == np.float32
    _same(got, want)


def test_raw_ufunc_and_strided_and_out():
    x = ALL[::3]
    want = ag.ufuncs.gelu(x.astype(np.float32))
    _same(ag.ufuncs.gelu(x), want)
    out = np.empty(x.shape, BF16)
    assert ag.gelu(x, out=out) is out
    _same(out, want)
    # a parameter broadcasts as float64
    _same(ag.ufuncs.leaky_relu(x, 0.25), ag.ufuncs.leaky_relu(x.astype(np.float32), 0.25))


def test_input_not_modified():
    x = ALL.copy()
    ag.mish(x)
    np.testing.assert_array_equal(x.view(np.uint16), ALL.view(np.uint16))


def _axis_inputs():
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((5, 6, 8)) * 4).astype(BF16)
    g = rng.standard_normal((5, 6, 8)).astype(BF16)
    return x, g


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [-1, 1])
def test_axis_functions(name, axis):
    x, g = _axis_inputs()
    f = getattr(ag, name)
    b = getattr(ag, name + "_backward")
    _same(f(x, axis=axis), f(x.astype(np.float32), axis=axis))
    _same(b(g, x, axis=axis), b(g.astype(np.float32), x.astype(np.float32), axis=axis))


def test_glu():
    x, g = _axis_inputs()
    x = np.concatenate([x, x[::-1]], axis=-1)
    _same(ag.glu(x), ag.glu(x.astype(np.float32)))
    _same(ag.glu_backward(g, x), ag.glu_backward(g.astype(np.float32), x.astype(np.float32)))


def test_prelu():
    x, g = _axis_inputs()
    w = np.linspace(-0.5, 0.5, 6).astype(BF16)
    x32, g32, w32 = (a.astype(np.float32) for a in (x, g, w))
    _same(ag.prelu(x, w), ag.prelu(x32, w32))
    _same(ag.prelu(x, 0.25), ag.prelu(x32, 0.25))
    _same(ag.prelu_grad(x, w), ag.prelu_grad(x32, w32))
    gi, gw = ag.prelu_backward(g, x, w)
    gi32, gw32 = ag.prelu_backward(g32, x32, w32)
    _same(gi, gi32)
    _same(gw, gw32)


def _run(code):
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_import_does_not_import_ml_dtypes():
    _run("import actgrad, sys; assert 'ml_dtypes' not in sys.modules\n"
         "assert actgrad._ufuncs._bfloat16_type() == -1")


def test_registered_on_first_bfloat16_array():
    _run("import actgrad, numpy as np, ml_dtypes\n"
         "assert actgrad._ufuncs._bfloat16_type() == -1\n"
         "x = np.array([1.0, -2.0], ml_dtypes.bfloat16)\n"
         "y = actgrad.silu(x)\n"
         "assert y.dtype == x.dtype, y.dtype\n"
         "assert actgrad._ufuncs._bfloat16_type() == x.dtype.num\n")


def test_registered_at_import_after_ml_dtypes():
    _run("import ml_dtypes, numpy as np, actgrad\n"
         "assert actgrad._ufuncs._bfloat16_type() == np.dtype(ml_dtypes.bfloat16).num\n")


def test_other_user_dtypes_still_rejected():
    x = np.zeros(3, dtype=ml_dtypes.float8_e4m3fn)
    with pytest.raises(TypeError, match="relu"):
        ag.relu(x)
