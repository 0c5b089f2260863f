"""The worst points that dense sweeps found in the kernels (issue 8), and
their neighbours, against mpmath at 60 digits: each was 4.0-6.2 ulp before
the kernels carried their product chains to twice the precision.

The reference is independent of the code under test: the function is
written here from its definition and differentiated by mpmath (mp.diff at
60 digits)."""

import mpmath as mp
import numpy as np
import pytest

import actgrad as ag
from actgrad.commands.accuracy import ulp_error

mp.mp.dps = 60
K2 = 2 * mp.sqrt(2 / mp.pi)


def _sigmoid(x):
    return 1 / (1 + mp.exp(-x))


DEFINITIONS = {
    "silu": lambda x: x * _sigmoid(x),
    "gelu": lambda x: x * mp.ncdf(x),
    "gelu_tanh": lambda x: x / 2 * (1 + mp.tanh(K2 / 2 * (x + mp.mpf("0.044715") * x**3))),
    "mish": lambda x: x * mp.tanh(mp.log1p(mp.exp(x))),
}
SUFFIX = {0: "", 1: "_grad", 2: "_grad2"}

# (function, order, dtype, x): issue 8's examples, then this branch's sweeps
WORST = [
    ("silu", 1, "float32", -0.8412367),
    ("gelu", 0, "float32", -11.08748),
    ("gelu", 0, "float32", -1.827301),
    ("gelu", 0, "float64", -11.2128715),
    ("gelu", 1, "float64", -1.7952208),
    ("gelu_tanh", 2, "float64", -3.5408116),
    ("mish", 2, "float64", 1.2791043),
    ("mish", 1, "float64", -0.2271990),
    ("silu", 2, "float64", 2.8799461),
    ("silu", 1, "float32", -0.85606384),
    ("silu", 2, "float32", 1.2269287),
    ("gelu", 0, "float64", -22.36255438141309),
    ("gelu", 0, "float32", 3.0262396e-05),
    ("mish", 2, "float64", 1.3758134053008675),
    ("gelu_tanh", 2, "float64", -5.370523450069804),
]


def _call(name, order, x):
    if name == "gelu_tanh":
        return getattr(ag, "gelu" + SUFFIX[order])(x, approximate="tanh")
    return getattr(ag, name + SUFFIX[order])(x)


@pytest.mark.parametrize("name,order,dtype,x0", WORST, ids=lambda v: str(v))
def test_worst_points_within_4_ulp(name, order, dtype, x0):
    dt = np.dtype(dtype)
    # the point and its 8 neighbours on either side
    x = np.array(x0, dtype=dt)
    xs = x + np.arange(-8, 9).astype(dt) * np.spacing(x)
    f = DEFINITIONS[name]
    refs = [mp.diff(f, mp.mpf(float(v)), order) if order else f(mp.mpf(float(v))) for v in xs]
    hi = np.array([float(r) for r in refs])
    lo = np.array([float(r - mp.mpf(h)) for r, h in zip(refs, hi)])
    got = _call(name, order, xs)
    err = ulp_error(got, hi, lo, dt)
    assert err.max() <= 4.0, [(float(v), float(e)) for v, e in zip(xs, err) if e > 4.0]
