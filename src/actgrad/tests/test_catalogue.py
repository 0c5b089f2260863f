"""The activations PyTorch lacks (issue 13): squareplus, sparse_plus and
sparse_sigmoid, against JAX's own functions where they differ on purpose,
and against hand derivations and mpmath in the far tails.

The table-wide tests (test_reference, test_smooth, test_dtypes, ...) cover
them like every other entry, with JAX's autograd as the peer in place of
PyTorch's (conftest.JAX_PEERS).
"""

import math
import warnings

import mpmath as mp
import numpy as np
import pytest

import actgrad as ag


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# --------------------------------------------------------------------------
# squareplus


def _mp_squareplus(x, b):
    with mp.workdps(60):
        x, b = mp.mpf(x), mp.mpf(b)
        r = mp.sqrt(x * x + b)
        return (x + r) / 2 if x >= 0 else b / (2 * (r - x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_squareplus_keeps_its_digits_where_the_textbook_form_cancels(dtype):
    """x + sqrt(x^2 + b) cancels for x << 0 (JAX's form gives 0 below about
    x = -1e9 in float64, and inf from x = -1.4e154, where x^2 overflows); actgrad's b / (2 (r - x)) stays within 4 ulp of
    mpmath down to the largest finite x, and x^2 never overflows."""
    info = np.finfo(dtype)
    x = np.array([-float(info.max), -1e30, -1e8, -3e4, -50.0, -1.0, -1e-3,
                  1e-3, 1.0, 50.0, 3e4, 1e8, 1e30, float(info.max)], dtype=dtype)
    for b in (4.0, 0.01, 1e6):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = ag.squareplus(x, b=b)
        want = np.array([float(_mp_squareplus(float(v), float(dtype(b)))) for v in x])
        assert np.all(got > 0)
        np.testing.assert_array_max_ulp(got, want.astype(dtype), maxulp=4)
    assert ag.squareplus(-1e300) == 1e-300 and ag.squareplus(1e300) == 1e300
    jax = _jax()  # what the textbook sum gives: 0, and inf where x**2 overflows
    assert float(jax.nn.squareplus(np.float64(-1e10))) == 0.0
    assert float(jax.nn.squareplus(np.float64(-1e300))) == math.inf


def test_squareplus_derivatives_at_the_ends_and_at_zero():
    b = 4.0
    x = np.array([-np.inf, -1e300, -1e200, 0.0, -0.0, 1e200, 1e300, np.inf, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d, d2 = ag.squareplus_grad(x), ag.squareplus_grad2(x)
    # f'(x) = b / (2 r (r - x)) ~ b / (4 x^2) for x << 0, f'' ~ b / (2 |x|^3)
    np.testing.assert_array_equal(d[[0, 1, 2]], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(d[[3, 4]], [0.5, 0.5])
    np.testing.assert_array_equal(d[[5, 6, 7]], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(d2[:8], [0.0, 0.0, 0.0, 0.25, 0.25, 0.0, 0.0, 0.0])
    assert np.isnan(d[8]) and np.isnan(d2[8])
    # moderate tails, against the hand derivation in mpmath
    for v in (-1e50, -1e100, 1e100):
        with mp.workdps(60):
            r = mp.sqrt(mp.mpf(v) ** 2 + b)
            want1 = float((1 + mp.mpf(v) / r) / 2) if v > 0 else float(b / (2 * r * (r - v)))
            want2 = float(b / (2 * r**3))
        assert ag.squareplus_grad(v) == pytest.approx(want1, rel=1e-15)
        assert ag.squareplus_grad2(v) == pytest.approx(want2, rel=1e-15)
    # JAX: NaN for f'(+inf), as the docstring says
    jax = _jax()
    assert math.isnan(float(jax.grad(jax.nn.squareplus)(np.inf)))


def test_squareplus_float32_limits_of_b():
    """In float32 a huge b rounds to inf: the kernels take the limits (f = inf,
    f' = 1/2, f'' = 0) instead of NaN; a tiny one stays nonzero (the contract:
    the smallest subnormal), so f(0) = sqrt(b)/2 > 0 and f''(0) = 1/(2 sqrt(b))."""
    x = np.array([-2.0, 0.0, 3.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(ag.squareplus(x, b=1e60), [np.inf] * 3)
        np.testing.assert_array_equal(ag.squareplus_grad(x, b=1e60), [0.5] * 3)
        np.testing.assert_array_equal(ag.squareplus_grad2(x, b=1e60), [0.0] * 3)
        tiny = float(np.finfo(np.float32).smallest_subnormal)
        np.testing.assert_array_max_ulp(ag.squareplus(x, b=1e-60),
                                        np.float32([tiny / 4, math.sqrt(tiny) / 2, 3.0]), 2)
        np.testing.assert_array_equal(ag.squareplus_grad(x, b=1e-60), [0.0, 0.5, 1.0])
        np.testing.assert_array_max_ulp(ag.squareplus_grad2(x, b=1e-60)[1],
                                        np.float32(0.5 / math.sqrt(tiny)), 2)


def test_squareplus_rejects_a_b_outside_its_domain():
    for b in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="squareplus: b"):
            ag.squareplus(1.0, b=b)
    with pytest.raises(ValueError, match="squareplus_backward: b"):
        ag.squareplus_backward(1.0, 1.0, b=0.0)


# --------------------------------------------------------------------------
# sparse_plus and sparse_sigmoid


def test_sparse_sigmoid_is_sparse_plus_derivative_bit_for_bit():
    rng = np.random.default_rng(13)
    for dtype in (np.float16, np.float32, np.float64, np.longdouble):
        x = np.concatenate([rng.uniform(-3, 3, 500), [-1.0, 1.0, -0.0, 0.0, np.inf, -np.inf,
                                                      np.nan]]).astype(dtype)
        x = np.concatenate([x, np.nextafter(dtype(1), dtype(0)) * np.array([1, -1], dtype)])
        np.testing.assert_array_equal(ag.sparse_sigmoid(x), ag.sparse_plus_grad(x))
        np.testing.assert_array_equal(ag.sparse_sigmoid_grad(x), ag.sparse_plus_grad2(x))


def test_sparse_kinks_against_jax():
    """At +-1 sparse_plus's f' and f'' are JAX's (its jnp.where); sparse_sigmoid'
    takes the outer branch (0) where JAX's jnp.clip splits the tie (1/4)."""
    jax = _jax()
    k = np.array([-1.0, 1.0])
    d1 = jax.vmap(jax.grad(jax.nn.sparse_plus))(k)
    d2 = jax.vmap(jax.grad(jax.grad(jax.nn.sparse_plus)))(k)
    np.testing.assert_array_equal(ag.sparse_plus_grad(k), np.asarray(d1))
    np.testing.assert_array_equal(ag.sparse_plus_grad2(k), np.asarray(d2))
    np.testing.assert_array_equal(ag.sparse_plus_grad2(k), [0.0, 0.0])
    theirs = np.asarray(jax.vmap(jax.grad(jax.nn.sparse_sigmoid))(k))
    np.testing.assert_array_equal(theirs, [0.25, 0.25])
    np.testing.assert_array_equal(ag.sparse_sigmoid_grad(k), [0.0, 0.0])
    # and beside the kinks, where JAX's x + 1 rounds onto 2, the true slope 1/2
    below = np.nextafter(1.0, 0.0)
    assert float(jax.grad(jax.nn.sparse_sigmoid)(below)) == 0.25
    assert ag.sparse_sigmoid_grad(below) == 0.5


def test_sparse_plus_is_correctly_rounded_inside():
    """(x + 1)^2 / 4 from the exact x + 1: within half an ulp of the exact
    rational value (the plain square of the rounded x + 1 is up to 1.5 ulp off)."""
    from fractions import Fraction

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-1, 1, 300), 10.0 ** -rng.uniform(5, 300, 100)])
    got = ag.sparse_plus(x)
    for xi, yi in zip(x, got):
        exact = (Fraction(float(xi)) + 1) ** 2 / 4
        ulp = np.spacing(yi)
        assert abs(Fraction(float(yi)) - exact) <= Fraction(float(ulp)) / 2, xi


# --------------------------------------------------------------------------
# softmin


def _softmin_rows():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 9)) * 30
    x[1, [0, 3]] = -np.inf          # entries at -inf share the row
    x[2] = np.inf                    # the masked row of softmin
    x[3, 2] = np.nan
    x[4, 5] = np.inf                 # weight 0 there
    x[5] = -np.inf
    return x


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_softmin_is_softmax_of_minus_x_bit_for_bit(dtype):
    x = _softmin_rows().astype(dtype)
    g = np.random.default_rng(5).standard_normal(x.shape).astype(dtype)
    g[4, 5] = np.inf  # ignored where s is 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s, b = ag.softmin(x), ag.softmin_backward(g, x)
    np.testing.assert_array_equal(s, ag.softmax(-x))
    assert s.dtype == x.dtype
    want = -ag.softmax_backward(g, -x)
    np.testing.assert_array_equal(b, want)
    assert (np.signbit(b) == np.signbit(want)).all()
    for axis in (0, 1):
        np.testing.assert_array_equal(ag.softmin(x, axis=axis), ag.softmax(-x, axis=axis))


def test_softmin_conventions_and_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[-np.inf, 1.0, -np.inf], [np.inf, np.inf, np.inf], [2.0, 0.0, 1.0]])
    np.testing.assert_array_equal(ag.softmin(x)[:2], [[0.5, 0, 0.5], [0, 0, 0]])
    t = torch.from_numpy(x[2:]).requires_grad_()
    y = torch.nn.functional.softmin(t, -1)
    g = torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64)
    y.backward(g)
    np.testing.assert_allclose(ag.softmin(x[2:]), y.detach().numpy(), rtol=4e-16)
    np.testing.assert_allclose(ag.softmin_backward(g.numpy(), x[2:]), t.grad.numpy(),
                               rtol=1e-15, atol=1e-16)
    # against mpmath, from the definition
    with mp.workdps(40):
        row = [mp.mpf(float(v)) for v in x[2]]
        z = sum(mp.exp(-v) for v in row)
        want = [float(mp.exp(-v) / z) for v in row]
    np.testing.assert_array_max_ulp(ag.softmin(x[2]), np.array(want), maxulp=2)
