"""Semantics of the smooth activations: limits, NaN, extremes, backward,
dtypes, parameters, variants, PyTorch's conventions, docstrings."""

import doctest
import math
import warnings

import numpy as np
import pytest

import actgrad as ag
from actgrad._table import ACTIVATIONS, FORMS

SMOOTH = [a for a in ACTIVATIONS if a.tolerance_ulp > 0]
INF = math.inf

# Hand-derived limits (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf)).
LIMITS = {
    "sigmoid": (0, 1, 0, 0, 0, 0),
    "logsigmoid": (-INF, 0, 1, 0, 0, 0),
    "tanh": (-1, 1, 0, 0, 0, 0),
    "silu": (0, INF, 0, 1, 0, 0),
    "softplus": (0, INF, 0, 1, 0, 0),
    "elu": (-1, INF, 0, 1, 0, 0),
    "selu": (-1.6732632423543772 * 1.0507009873554805, INF, 0, 1.0507009873554805, 0, 0),
    "celu": (-1, INF, 0, 1, 0, 0),
    "gelu": (0, INF, 0, 1, 0, 0),
    "mish": (0, INF, 0, 1, 0, 0),
    "softsign": (-1, 1, 0, 0, 0, 0),
    "hardsigmoid": (0, 1, 0, 0, 0, 0),
    "hardswish": (0, INF, 0, 1, 0, 0),
    "tanhshrink": (-INF, INF, 1, 1, 0, 0),
    "squareplus": (0, INF, 0, 1, 0, 0),
    "sparse_plus": (0, INF, 0, 1, 0, 0),
    "sparse_sigmoid": (0, 1, 0, 0, 0, 0),
}

EXTREMES = np.array([-INF, -1.7976931348623157e308, -1e300, -1e4, -800.0, -746.0, -745.0,
                     -709.0, -40.0, -5e-324, -0.0, 0.0, 5e-324, 2.2250738585072014e-308,
                     40.0, 709.0, 710.0, 745.0, 800.0, 1e4, 1e300, 1.7976931348623157e308,
                     INF])


def variants(act):
    """(label, params) for the default and every test parameter set."""
    out = [("default", {})]
    out += [(str(p), p) for p in act.test_params]
    return out


def _cases():
    for act in SMOOTH:
        for label, params in variants(act):
            yield pytest.param(act, params, id=f"{act.name}-{label}")


CASES = list(_cases())


def call(act, form, *arrays, **params):
    return getattr(ag, act.function_name(form))(*arrays, **params)


@pytest.mark.parametrize("act", SMOOTH, ids=lambda a: a.name)
def test_limits_at_infinity(act):
    assert act.name in LIMITS, "add the limits of " + act.name
    expect = LIMITS[act.name]
    x = np.array([-INF, INF])
    got = [call(act, f, x) for f in FORMS[:3]]
    np.testing.assert_array_equal(np.concatenate(got), np.array(expect, dtype=float))


@pytest.mark.parametrize("act,params", CASES)
def test_nan_and_extremes(act, params):
    x = np.concatenate([EXTREMES, [np.nan]])
    g = np.ones_like(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            for form in FORMS:
                arrays = (g, x) if form.kind == "backward" else (x,)
                y = call(act, form, *arrays, **params)
                assert np.isnan(y[-1]), form.suffix
                assert not np.isnan(y[:-1]).any(), (form.suffix, x[np.isnan(y[:-1])])
                # only f may be infinite, and only where x is infinite (or
                # the largest double, where selu's scale * x overflows)
                finite = np.isfinite(y[:-1])
                if form.kind == "f":
                    assert finite[np.abs(x[:-1]) <= 1e300].all(), x[:-1][~finite]
                else:
                    assert finite.all(), (form.suffix, x[:-1][~finite])


def test_spec_extremes():
    assert ag.softplus(1e4) == 1e4
    assert ag.sigmoid_grad(-1e4) == 0
    assert ag.logsigmoid(-1e4) == -1e4
    for name in ("mish",):
        if hasattr(ag, name):
            assert getattr(ag, name)(1e4) == 1e4
    # the tails of the derivatives keep their digits where s (1 - s) is 0
    assert ag.sigmoid_grad(40.0) == pytest.approx(4.248354255291589e-18, rel=1e-15)
    assert ag.tanh_grad(20.0) == pytest.approx(1.6993417021166355e-17, rel=1e-15)
    assert ag.silu_grad(-40.0) == pytest.approx(-1.6568581588347765e-16, rel=1e-15)


@pytest.mark.parametrize("act,params", CASES)
def test_backward_is_fused_product(act, params):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 5, 500), EXTREMES])
    g = rng.normal(size=x.size)
    g[::7] = np.inf
    g[::11] = np.nan
    d = call(act, FORMS[1], x, **params)
    with np.errstate(all="ignore"):
        want = np.where(d == 0, 0.0, g * d)
    got = call(act, FORMS[3], g, x, **params)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("act", SMOOTH, ids=lambda a: a.name)
@pytest.mark.parametrize("form", FORMS[:3], ids=lambda f: f.kind)
def test_float16_is_float32_rounded_once(act, form):
    x16 = np.arange(65536, dtype=np.uint16).view(np.float16)
    got = call(act, form, x16)
    assert got.dtype == np.float16
    with np.errstate(over="ignore"):  # selu(65504) overflows float16, as it should
        want = call(act, form, x16.astype(np.float32)).astype(np.float16)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("act", SMOOTH, ids=lambda a: a.name)
def test_dtypes(act):
    for dtype in (np.float16, np.float32, np.float64, np.longdouble):
        assert call(act, FORMS[0], np.ones(3, dtype)).dtype == dtype
    for dtype in (np.int8, np.int64, np.uint32, np.bool_):
        assert call(act, FORMS[1], np.ones(3, dtype)).dtype == np.float64
    with pytest.raises(TypeError, match=act.name):
        call(act, FORMS[0], np.ones(3, complex))


@pytest.mark.parametrize("act", SMOOTH, ids=lambda a: a.name)
def test_longdouble_matches_double(act):
    x = np.linspace(-12, 12, 97)
    for form in FORMS[:3]:
        got = call(act, form, x.astype(np.longdouble)).astype(np.float64)
        np.testing.assert_allclose(got, call(act, form, x), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("act,params", CASES)
def test_strided_and_inplace(act, params):
    rng = np.random.default_rng(1)
    x = rng.normal(0, 4, 301)
    f = FORMS[1]
    want = call(act, f, x, **params)
    for step in (-3, -1, 2, 4):
        np.testing.assert_array_equal(call(act, f, x[::step], **params), want[::step])
    y = x.copy()
    out = call(act, f, y, out=y, **params)
    assert out is y
    np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize("act", SMOOTH, ids=lambda a: a.name)
@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.kind)
def test_docstring_example(act, form):
    func = getattr(ag, act.function_name(form))
    doc = func.__doc__
    for word in ("f(x)", "f'(x)", "Conventions", "Limits", ">>>"):
        assert word in doc, word
    parser = doctest.DocTestParser()
    test = parser.get_doctest(doc, {}, act.function_name(form), None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=lambda s: print(s))
    assert result.failed == 0


def test_gelu_variants():
    x = np.linspace(-5, 5, 11)
    np.testing.assert_array_equal(ag.gelu(x, approximate="tanh"), ag.ufuncs.gelu_tanh(x))
    np.testing.assert_array_equal(ag.gelu_grad(x, approximate="none"), ag.ufuncs.gelu_grad(x))
    with pytest.raises(ValueError, match="approximate"):
        ag.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="approximate"):
        ag.gelu_backward(x, x, approximate=None)


def test_softplus_parameters():
    with pytest.raises(ValueError, match="beta"):
        ag.softplus(1.0, beta=0.0)
    with pytest.raises(ValueError, match="beta"):
        ag.softplus_grad(1.0, beta=-1.0)
    with pytest.raises(ValueError, match="beta"):
        ag.softplus(1.0, beta=math.nan)
    with pytest.raises(TypeError, match="threshold"):
        ag.softplus(1.0, threshold="20")
    with pytest.raises(ValueError, match="threshold"):
        ag.softplus(1.0, threshold=math.nan)
    x = np.array([-30.0, 0.5, 19.0, 21.0])
    np.testing.assert_array_equal(ag.softplus(x, threshold=20.0),
                                  ag.ufuncs.softplus_threshold(x, 1.0, 20.0))
    np.testing.assert_array_equal(ag.softplus(x, beta=2), ag.ufuncs.softplus(x, 2.0))
    assert ag.softplus(21.0, threshold=20) == 21.0
    # beta as an array broadcasts
    assert ag.softplus(np.zeros(3), beta=np.array([1.0, 2.0, 4.0])).shape == (3,)




def _torch():
    try:
        import torch as t
    except ImportError:
        pytest.skip("torch not installed")
    t.set_num_threads(1)
    return t


TORCH = {
    "sigmoid": lambda t, x, p: t.sigmoid(x),
    "logsigmoid": lambda t, x, p: t.nn.functional.logsigmoid(x),
    "tanh": lambda t, x, p: t.tanh(x),
    "silu": lambda t, x, p: t.nn.functional.silu(x),
    "softplus": lambda t, x, p: t.nn.functional.softplus(
        x, beta=p.get("beta", 1.0), threshold=p.get("threshold") or 1e30),
    "elu": lambda t, x, p: t.nn.functional.elu(x, alpha=p.get("alpha", 1.0)),
    "selu": lambda t, x, p: t.nn.functional.selu(x),
    "celu": lambda t, x, p: t.nn.functional.celu(x, alpha=p.get("alpha", 1.0)),
    "gelu": lambda t, x, p: t.nn.functional.gelu(x, approximate=p.get("approximate", "none")),
    "mish": lambda t, x, p: t.nn.functional.mish(x),
    "softsign": lambda t, x, p: t.nn.functional.softsign(x),
    "hardsigmoid": lambda t, x, p: t.nn.functional.hardsigmoid(x),
    "hardswish": lambda t, x, p: t.nn.functional.hardswish(x),
    "tanhshrink": lambda t, x, p: t.nn.functional.tanhshrink(x),
}


@pytest.mark.parametrize("act,params", CASES)
def test_against_torch_autograd(act, params):
    """f and f' agree with PyTorch on moderate inputs and at every kink."""
    if act.name not in TORCH:
        assert not act.torch_name
        pytest.skip("PyTorch has no such function (conftest.JAX_PEERS: JAX's instead)")
    t = _torch()
    kinks = list(act.kink_points(**{**act.default_params(), **params}))
    x = np.concatenate([np.linspace(-8, 8, 321), kinks, [0.0, -3.0, 3.0]])
    tx = t.tensor(x, requires_grad=True)
    y = TORCH[act.name](t, tx, params)
    (g,) = t.autograd.grad(y.sum(), tx)
    np.testing.assert_allclose(call(act, FORMS[0], x, **params), y.detach().numpy(),
                               rtol=1e-13, atol=1e-15)
    # PyTorch's hardsigmoid_backward multiplies by the float32 constant
    # 1.0f / 6.0f even for float64; actgrad's 1/6 is exact
    rtol = 1e-7 if act.name == "hardsigmoid" else 1e-11
    np.testing.assert_allclose(call(act, FORMS[1], x, **params), g.numpy(),
                               rtol=rtol, atol=1e-14)
    # at the kinks, PyTorch's choice of branch: the branches differ by far
    # more than the accuracy bound there (hardswish'(3): 1 vs 1.5; softplus's
    # switch: 1 vs sigmoid(threshold)), while the smooth branch's own value may
    # differ from PyTorch's formula by an ulp
    if kinks:
        k = np.array(kinks)
        tk = t.tensor(k, requires_grad=True)
        (gk,) = t.autograd.grad(TORCH[act.name](t, tk, params).sum(), tk)
        np.testing.assert_allclose(call(act, FORMS[1], k, **params), gk.numpy(),
                                   rtol=act.tolerance_ulp * np.finfo(np.float64).eps, atol=0)


def test_softplus_threshold_is_bit_compatible_with_torch():
    t = _torch()
    rng = np.random.default_rng(3)
    for dtype, tdtype in ((np.float32, t.float32), (np.float64, t.float64)):
        x = np.concatenate([rng.uniform(-40, 40, 2000), [20.0, 10.0, 10.000001]]).astype(dtype)
        for beta, th in ((1.0, 20.0), (2.0, 20.0), (0.5, 3.0)):
            tx = t.tensor(x, dtype=tdtype, requires_grad=True)
            y = t.nn.functional.softplus(tx, beta=beta, threshold=th)
            (g,) = t.autograd.grad(y.sum(), tx)
            ours = ag.softplus(x, beta=beta, threshold=th)
            lin = (x * dtype(beta)) > th
            assert lin.any()
            np.testing.assert_array_equal(ours[lin], y.detach().numpy()[lin])
            np.testing.assert_array_equal(ag.softplus_grad(x, beta=beta, threshold=th)[lin],
                                          g.numpy()[lin])
            np.testing.assert_allclose(ours, y.detach().numpy(), rtol=4 * np.finfo(dtype).eps)
