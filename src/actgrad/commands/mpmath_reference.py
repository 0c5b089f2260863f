"""The activations, their derivatives and second derivatives in mpmath.

Written from the mathematical definitions, independently of the C++ kernels:
derivatives are the closed forms (checked against mpmath's numerical
differentiation by `self_check`), evaluated at 50 significant digits.  Where
a textbook form would cancel even at 50 digits (1 - 2 s(x) near 0), an exact
identity is used instead (-tanh(x/2)).

REFERENCES[name] = (f, f', f''), each a function of (x, **params) over mpf;
CASES[case] binds them to the parameters of each reference case.

It lives in the package so that ``actgrad accuracy --sweep`` can re-check its
worst points; tools/mpmath_reference.py loads this file for the tools.  It
imports only mpmath and numpy (never actgrad's extension).
"""

from __future__ import annotations

import mpmath as mp

mp.mp.dps = 50


def _s(x):
    return 1 / (1 + mp.exp(-x))


def _ds(x):  # s(x) s(-x)
    return _s(x) * _s(-x)


def _d2s(x):  # s'(x) (1 - 2 s(x)) = -s'(x) tanh(x/2)
    return -_ds(x) * mp.tanh(x / 2)


def _softplus(x, beta=1.0):
    y = mp.mpf(beta) * x
    return mp.log1p(mp.exp(y)) / beta if y < 0 else (y + mp.log1p(mp.exp(-y))) / beta


SELU_ALPHA = mp.mpf("1.6732632423543772848170429916717")
SELU_SCALE = mp.mpf("1.0507009873554804934193349852946")


def _tanhshrink(x):
    if abs(x) < mp.mpf("1e-5"):  # x - tanh(x) cancels beyond 50 digits
        return x**3 / 3 - 2 * x**5 / 15 + 17 * x**7 / 315 - 62 * x**9 / 2835
    return x - mp.tanh(x)


def _sign(x):
    return mp.mpf((x > 0) - (x < 0))


GT_C = mp.mpf("0.044715")
GT_K = mp.sqrt(2 / mp.pi)


def _gt_v(x):  # 2 sqrt(2/pi) (x + 0.044715 x^3): 1 + tanh(u) = 2 s(2u)
    return 2 * GT_K * (x + GT_C * x**3)


def _gt_v1(x):
    return 2 * GT_K * (1 + 3 * GT_C * x * x)


def _ncdf(x):
    # mpmath's erfc overflows for |x| > ~1e10; beyond |x| = 1e6 Phi is 0 or 1
    # (exp(-5e11) is far below any float, and below the 50 digits)
    if abs(x) > 10**6:
        return mp.mpf(0) if x < 0 else mp.mpf(1)
    return mp.ncdf(x)


def _npdf(x):
    return mp.mpf(0) if abs(x) > 10**6 else mp.npdf(x)


def _mish_parts(x):
    sp = mp.log1p(mp.exp(x))
    return mp.tanh(sp), 1 / mp.cosh(sp) ** 2, _s(x)  # T, sech^2(sp), s(x)


def _mish(x):
    return x * _mish_parts(x)[0]


def _mish1(x):
    t, s2, s = _mish_parts(x)
    return t + x * s2 * s


def _mish2(x):  # 2 T' + x T'', T' = sech^2(sp) s, T'' = sech^2(sp) (s' - 2 T s^2)
    t, s2, s = _mish_parts(x)
    return 2 * s2 * s + x * s2 * (_ds(x) - 2 * t * s * s)


REFERENCES = {
    "sigmoid": (_s, _ds, _d2s),
    "logsigmoid": (
        lambda x: -_softplus(-x),
        lambda x: _s(-x),
        lambda x: -_ds(x),
    ),
    "tanh": (
        mp.tanh,
        lambda x: 1 / mp.cosh(x) ** 2,
        lambda x: -2 * mp.tanh(x) / mp.cosh(x) ** 2,
    ),
    "silu": (
        lambda x: x * _s(x),
        lambda x: _s(x) + x * _ds(x),
        lambda x: _ds(x) * (2 - x * mp.tanh(x / 2)),
    ),
    "softplus": (
        lambda x, beta=1.0: _softplus(x, beta),
        lambda x, beta=1.0: _s(mp.mpf(beta) * x),
        lambda x, beta=1.0: mp.mpf(beta) * _ds(mp.mpf(beta) * x),
    ),
    # elu family: derivatives at 0 from the left branch (PyTorch's choice)
    "elu": (
        lambda x, alpha=1.0: x if x > 0 else alpha * mp.expm1(x),
        lambda x, alpha=1.0: mp.mpf(1) if x > 0 else alpha * mp.exp(x),
        lambda x, alpha=1.0: mp.mpf(0) if x > 0 else alpha * mp.exp(x),
    ),
    "selu": (
        lambda x: SELU_SCALE * (x if x > 0 else SELU_ALPHA * mp.expm1(x)),
        lambda x: SELU_SCALE if x > 0 else SELU_SCALE * SELU_ALPHA * mp.exp(x),
        lambda x: mp.mpf(0) if x > 0 else SELU_SCALE * SELU_ALPHA * mp.exp(x),
    ),
    "celu": (
        lambda x, alpha=1.0: x if x > 0 else alpha * mp.expm1(x / alpha),
        lambda x, alpha=1.0: mp.mpf(1) if x > 0 else mp.exp(x / alpha),
        lambda x, alpha=1.0: mp.mpf(0) if x > 0 else mp.exp(x / alpha) / alpha,
    ),
    # hard functions: f' is 0 at +-3 for hardsigmoid; hardswish f'(-3) = 0, f'(3) = 1
    "hardsigmoid": (
        lambda x: mp.mpf(0) if x <= -3 else (mp.mpf(1) if x >= 3 else x / 6 + mp.mpf(1) / 2),
        lambda x: mp.mpf(1) / 6 if -3 < x < 3 else mp.mpf(0),
        lambda x: mp.mpf(0),
    ),
    "hardswish": (
        lambda x: mp.mpf(0) if x <= -3 else (x if x >= 3 else x * (x + 3) / 6),
        lambda x: mp.mpf(0) if x <= -3 else (mp.mpf(1) if x >= 3 else (2 * x + 3) / 6),
        lambda x: mp.mpf(1) / 3 if -3 < x < 3 else mp.mpf(0),
    ),
    "softsign": (
        lambda x: x / (1 + abs(x)),
        lambda x: 1 / (1 + abs(x)) ** 2,
        lambda x: -2 * _sign(x) / (1 + abs(x)) ** 3,
    ),
    "gelu": (
        lambda x: x * _ncdf(x),
        lambda x: _ncdf(x) + x * _npdf(x),
        lambda x: _npdf(x) * (2 - x * x),
    ),
    # PyTorch's tanh approximation: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    "gelu_tanh": (
        # x/2 (1 + tanh(u)) = x s(2u): the same number, without the cancellation
        # of 1 + tanh(u) for u < -20, which would eat the 50 digits
        lambda x: x * _s(_gt_v(x)),
        lambda x: _s(_gt_v(x)) + x * _gt_v1(x) * _ds(_gt_v(x)),
        lambda x: _ds(_gt_v(x)) * (2 * _gt_v1(x) + 12 * GT_K * GT_C * x * x
                                   - x * _gt_v1(x) ** 2 * mp.tanh(_gt_v(x) / 2)),
    ),
    "mish": (_mish, _mish1, _mish2),
    "tanhshrink": (
        _tanhshrink,
        lambda x: mp.tanh(x) ** 2,
        lambda x: 2 * mp.tanh(x) / mp.cosh(x) ** 2,
    ),
}


def _squareplus(x, b=4.0):  # for x < 0 the quotient: x + r cancels beyond 50 digits
    r = mp.sqrt(x * x + b)
    return (x + r) / 2 if x >= 0 else b / (2 * (r - x))


def _squareplus1(x, b=4.0):
    r = mp.sqrt(x * x + b)
    return (1 + x / r) / 2 if x >= 0 else b / (2 * r * (r - x))


def _sparse_plus(x):
    return mp.mpf(0) if x <= -1 else (x if x >= 1 else (x + 1) ** 2 / 4)


def _sparse_sigmoid(x):
    return mp.mpf(0) if x <= -1 else (mp.mpf(1) if x >= 1 else (x + 1) / 2)


def _sparse_sigmoid1(x):  # the outer branch at +-1
    return mp.mpf(1) / 2 if -1 < x < 1 else mp.mpf(0)


REFERENCES.update({
    "squareplus": (_squareplus, _squareplus1,
                   lambda x, b=4.0: b / (2 * mp.sqrt(x * x + b) ** 3)),
    "sparse_plus": (_sparse_plus, _sparse_sigmoid, _sparse_sigmoid1),
    "sparse_sigmoid": (_sparse_sigmoid, _sparse_sigmoid1, lambda x: mp.mpf(0)),
})


def self_check():
    """The closed-form derivatives agree with numerical differentiation."""
    for name, (f, df, d2f) in REFERENCES.items():
        for x in (mp.mpf("-3.7"), mp.mpf("-0.4"), mp.mpf("0.3"), mp.mpf("2.9")):
            for g, dg in ((f, df), (df, d2f)):
                num = mp.diff(g, x)
                assert abs(num - dg(x)) <= mp.mpf(10) ** -30 * (1 + abs(num)), (name, x)


def _bind(funcs, **params):
    return tuple((lambda g: lambda x, dtype=None: g(x, **params))(g) for g in funcs)


def _softplus_threshold(form, beta, threshold):
    exact = REFERENCES["softplus"][form]
    linear = (lambda x: x, lambda x: mp.mpf(1), lambda x: mp.mpf(0))[form]

    def g(x, dtype):
        # PyTorch rounds beta * x in the input's precision (float for float16)
        import numpy as np
        t = np.float32 if dtype in (np.float16, np.float32) else np.float64
        y = t(float(x)) * t(beta)
        return linear(x) if y > threshold else exact(x, beta)
    return g


# The reference cases: ufunc name -> forms (f, f', f'') at fixed parameters,
# the parameters the ufunc is called with, and extra sample points.
CASES = {
    "sigmoid": {"forms": _bind(REFERENCES["sigmoid"]), "params": {}},
    "logsigmoid": {"forms": _bind(REFERENCES["logsigmoid"]), "params": {}},
    "tanh": {"forms": _bind(REFERENCES["tanh"]), "params": {}},
    "silu": {"forms": _bind(REFERENCES["silu"]), "params": {},
             "points": (-1.2784645427610737, -2.3993572805154675, 2.3993572805154675)},
    "softplus": {"forms": _bind(REFERENCES["softplus"], beta=1.0), "params": {"beta": 1.0}},
    "softplus_beta2": {"forms": _bind(REFERENCES["softplus"], beta=2.0),
                       "params": {"beta": 2.0}, "ufunc": "softplus"},
    "elu": {"forms": _bind(REFERENCES["elu"], alpha=1.0), "params": {"alpha": 1.0}},
    "elu_alpha0.3": {"forms": _bind(REFERENCES["elu"], alpha=0.3), "params": {"alpha": 0.3},
                     "ufunc": "elu"},
    "selu": {"forms": _bind(REFERENCES["selu"]), "params": {}},
    "celu": {"forms": _bind(REFERENCES["celu"], alpha=1.0), "params": {"alpha": 1.0}},
    "celu_alpha3": {"forms": _bind(REFERENCES["celu"], alpha=3.0), "params": {"alpha": 3.0},
                    "ufunc": "celu"},
    "hardsigmoid": {"forms": _bind(REFERENCES["hardsigmoid"]), "params": {},
                    "points": (-3.0, 3.0, -2.9999999999999996, 2.9999999999999996)},
    "hardswish": {"forms": _bind(REFERENCES["hardswish"]), "params": {},
                  "points": (-3.0, 3.0, -1.5, -1.5000000000000002, -2.9999999999999996)},
    "softsign": {"forms": _bind(REFERENCES["softsign"]), "params": {}},
    "tanhshrink": {"forms": _bind(REFERENCES["tanhshrink"]), "params": {},
                   "points": (0.95, 0.9499999999999998, -0.95, 1e-5, 1e-100, 1e-160)},
    "gelu": {"forms": _bind(REFERENCES["gelu"]), "params": {},
             "points": (-0.7517915246935645, -1.4142135623730951, 1.4142135623730951,
                        -1.8, -0.2, -38.0, -38.5, -39.0)},
    "gelu_tanh": {"forms": _bind(REFERENCES["gelu_tanh"]), "params": {},
                  "points": (-0.7524614220710163, -1.4185040087908284, 1.4185040087908284,
                             -1.8, -0.2, 0.7, 2.6, -20.0, -21.0)},
    "mish": {"forms": _bind(REFERENCES["mish"]), "params": {},
             "points": (-1.1924312145154952, -2.256376396360793, 1.4905711794854285,
                        -1.55, -0.9, -2.8, -1.8, 1.15, 2.0)},
    "squareplus": {"forms": _bind(REFERENCES["squareplus"], b=4.0), "params": {"b": 4.0},
                   "points": (-1e300, 1e300, -1e30, 1e-300, -2.0, 2.0)},
    "squareplus_b0.01": {"forms": _bind(REFERENCES["squareplus"], b=0.01),
                         "params": {"b": 0.01}, "ufunc": "squareplus",
                         "points": (-1e300, -0.1, 0.1, 1e-3)},
    "sparse_plus": {"forms": _bind(REFERENCES["sparse_plus"]), "params": {},
                    "points": (-1.0, 1.0, -0.9999999999999999, 0.9999999999999999,
                               -1.0000000000000002, 1.0000000000000002)},
    "sparse_sigmoid": {"forms": _bind(REFERENCES["sparse_sigmoid"]), "params": {},
                       "points": (-1.0, 1.0, -0.9999999999999999, 0.9999999999999999,
                                  -1.0000000000000002, 1.0000000000000002)},
    "softplus_threshold": {
        "forms": tuple(_softplus_threshold(i, 1.0, 20.0) for i in range(3)),
        "params": {"beta": 1.0, "threshold": 20.0},
        "points": (20.0, 19.999999, 20.000001)},
}


if __name__ == "__main__":
    self_check()
    print("ok")
