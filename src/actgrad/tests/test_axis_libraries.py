"""softmax, log_softmax, glu and prelu on other array libraries.

The NumPy result (the gufuncs, themselves checked against mpmath and PyTorch
in test_axis.py) is the reference: each backend's result must be of its own
type, dtype and shape, with NaN and +-inf at the same places and every other
element within 4 ulp (1 ulp for float16).  The backward passes of softmax and
log_softmax end in a cancelling subtraction, and prelu's grad_weight is a sum,
computed by the libraries with other (uncompensated) sums: they are held to
4 ulp plus 4 eps times the scale of the terms that cancel, as in test_axis.py.

Autograd through actgrad's functions is compared with the libraries' own
autograd through their own softmax, log_softmax, glu and prelu, where those
agree (finite rows), and with actgrad's backward passes where they do not
(a fully masked row: zeros here, NaN there).
"""

from __future__ import annotations

import numpy as np
import pytest

import actgrad as ag
from actgrad._table import AXIS_ACTIVATIONS

from . import xp_backends

FORMS = [(act, form) for act in AXIS_ACTIVATIONS for form in act.forms]
FORM_IDS = [act.function_name(form) for act, form in FORMS]
BY_NAME = {act.name: act for act in AXIS_ACTIVATIONS}
DTYPES = ["float16", "float32", "float64", "int32", "bool"]


xp = xp_backends.xp


def rows(dtype, rng):
    """(5, 6): an ordinary row, two +inf, all -inf, a NaN, a wide spread."""
    if dtype == "bool":
        return rng.integers(0, 2, (5, 6)).astype(bool)
    if dtype == "int32":
        return rng.integers(-20, 20, (5, 6)).astype(np.int32)
    x = rng.standard_normal((5, 6)) * 3
    x[1, [1, 4]] = np.inf
    x[2] = -np.inf
    x[3, 2] = np.nan
    x[4] = [-1e3, 2.0, -600.0, 1e-3, -80.0, 0.0]
    with np.errstate(over="ignore"):
        return x.astype(dtype)


def cases(act, form, dtype, rng, xp):
    """(label, arrays, kwargs) for every calling pattern of the form."""
    x = rows(dtype, rng)
    gdtype = dtype if dtype.startswith("float") else "float64"
    if act.convention == "channel":
        x3 = np.stack([x, x[::-1]])  # (2, 5, 6): 5 channels
        weights = [(x, rng.uniform(-0.5, 0.5, 6).astype(gdtype)), (x, 0.25),
                   (x, np.array([-0.5], gdtype)), (x3, rng.uniform(-1, 1, 5).astype(gdtype)),
                   (x[0], np.array([0.5], gdtype))]
        for i, (xi, w) in enumerate(weights):
            g = rng.standard_normal(xi.shape).astype(gdtype)
            arrays = (g, xi, w) if form.kind == "backward" else (xi, w)
            yield f"weights {i}", arrays, {}
        return
    for axis in (-1, 0, 1):
        shape = list(x.shape)
        if act.convention == "halves":
            if x.shape[axis] % 2:
                continue
            shape[axis] //= 2
        g = rng.standard_normal(shape).astype(gdtype)
        arrays = (g, x) if form.kind == "backward" else (x,)
        yield f"axis={axis}", arrays, {"axis": axis}
    if act.convention == "axis":
        yield "empty rows", ((x[:, :0], x[:, :0]) if form.kind == "backward"
                             else (x[:, :0],)), {}
        if form.kind == "backward" and xp.positional_broadcast:  # grad_output broadcasts
            g = rng.standard_normal((1, 6)).astype(gdtype)
            yield "broadcast", (g, x), {}


def cancelling_scales(act, form, arrays, kwargs):
    """Per output, the scale of the terms that cancel in it (None: none do)."""
    if form.kind != "backward":
        return [None]
    if act.convention == "channel":
        g, x, w = (np.asarray(a, dtype=np.float64) for a in arrays)
        terms = np.abs(np.broadcast_to(g, x.shape) * np.where(np.isfinite(x), x, 0))
        per_channel = x.ndim >= 2 and w.size > 1
        axes = tuple(i for i in range(x.ndim) if not (per_channel and i == 1))
        return [None, np.nan_to_num(terms.sum(axis=axes)).reshape(w.shape)]
    if act.convention == "halves":
        return [None]
    g, x = (np.asarray(a, dtype=np.float64) for a in arrays)
    axis = kwargs.get("axis", -1)
    with np.errstate(all="ignore"):
        s = np.nan_to_num(ag.softmax(x, axis=axis))
        ag_ = np.nan_to_num(np.abs(g), posinf=0)
        if act.name == "softmax":
            scale = s * (ag_ + np.sum(ag_ * s, axis=axis, keepdims=True))
        else:
            scale = ag_ + s * np.sum(ag_, axis=axis, keepdims=True)
    return [scale]


def assert_close(actual, expected, where, *, scale=None):
    assert actual.dtype == expected.dtype, f"{where}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{where}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=where)
    inf = np.isinf(expected)
    np.testing.assert_array_equal(actual[inf], expected[inf], err_msg=where)
    finite = np.isfinite(expected)
    a, e = actual[finite].astype(np.float64), expected[finite].astype(np.float64)
    info = np.finfo(expected.dtype)
    ulps = 1 if expected.dtype == np.float16 else 4
    spacing = np.spacing(np.abs(expected[finite])).astype(np.float64)
    bound = ulps * spacing
    if scale is not None:
        bound = bound + 4 * float(info.eps) * np.broadcast_to(scale, expected.shape)[finite]
    bad = np.abs(a - e) > bound
    assert not bad.any(), f"{where}: {a[bad][:5]} != {e[bad][:5]} (bound {bound[bad][:5]})"


def as_tuple(r):
    return r if isinstance(r, tuple) else (r,)


def convert(xp, a):
    return xp.asarray(np.asarray(a)) if isinstance(a, np.ndarray) else a


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act, form", FORMS, ids=FORM_IDS)
def test_same_numbers_as_numpy(xp, act, form, dtype):
    if dtype in xp.unsupported:
        pytest.skip(f"{xp.name} has no {dtype}")
    if xp.name == "masked" and not (act.convention == "channel" and form.kind != "backward"):
        pytest.skip("masked entries take no part in a row (test_masked_entries_are_absent)")
    fn = getattr(ag, act.function_name(form))
    rng = np.random.default_rng(7)
    for label, arrays, kwargs in cases(act, form, dtype, rng, xp):
        if xp.flushes_subnormals and act.name == "glu":
            # exp(-|b|) of the wide row is subnormal, which XLA flushes to zero
            arrays = tuple(np.where(np.abs(a) > 80, 80 * np.sign(a), a)
                           if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                           for a in arrays)
        expected = as_tuple(fn(*arrays, **kwargs))
        result = as_tuple(fn(*[convert(xp, a) for a in arrays], **kwargs))
        assert len(result) == len(expected)
        scales = cancelling_scales(act, form, arrays, kwargs)
        for r, e, scale in zip(result, expected, scales):
            assert xp.is_own(r), f"{label}: got {type(r).__name__}"
            assert_close(xp.to_numpy(r), np.asarray(e), f"{xp.name} {label}", scale=scale)


def test_numpy_only_keywords_are_refused():
    torch = pytest.importorskip("torch")
    x = torch.ones(2, 4)
    with pytest.raises(TypeError, match=r"actgrad\.softmax: out=.*torch"):
        ag.softmax(x, out=torch.empty(2, 4))
    with pytest.raises(ValueError, match=r"glu: .*even length"):
        ag.glu(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"prelu: weight must have"):
        ag.prelu(x, torch.ones(3))
    with pytest.raises(ValueError, match=r"prelu_backward: grad_output of shape"):
        ag.prelu_backward(torch.ones(3, 4), x, torch.ones(4))


# --- autograd ----------------------------------------------------------------


def finite_rows(rng, shape=(3, 8)):
    return rng.standard_normal(shape) * 4


def test_torch_autograd_matches_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(1)
    x = finite_rows(rng)
    own = {"softmax": lambda t, axis: torch.softmax(t, axis),
           "log_softmax": lambda t, axis: torch.log_softmax(t, axis),
           "softmin": lambda t, axis: F.softmin(t, axis),
           "glu": lambda t, axis: F.glu(t, axis)}
    for name, theirs in own.items():
        for axis in (-1, 0):
            if name == "glu" and x.shape[axis] % 2:
                continue
            t1 = torch.from_numpy(x).requires_grad_()
            t2 = torch.from_numpy(x).requires_grad_()
            y1, y2 = getattr(ag, name)(t1, axis=axis), theirs(t2, axis)
            np.testing.assert_allclose(y1.detach().numpy(), y2.detach().numpy(), rtol=1e-13)
            gy = torch.from_numpy(rng.standard_normal(tuple(y1.shape)))
            (d1,) = torch.autograd.grad(y1, t1, gy, create_graph=True)
            (d2,) = torch.autograd.grad(y2, t2, gy, create_graph=True)
            np.testing.assert_allclose(d1.detach().numpy(), d2.detach().numpy(),
                                       rtol=1e-12, atol=1e-14, err_msg=name)
            # it is actgrad's own backward pass
            np.testing.assert_allclose(
                d1.detach().numpy(), getattr(ag, name + "_backward")(gy.numpy(), x, axis=axis),
                rtol=1e-13, atol=1e-15)
            # second order through the backward pass
            v = torch.from_numpy(rng.standard_normal(x.shape))
            (h1,) = torch.autograd.grad(d1, t1, v)
            (h2,) = torch.autograd.grad(d2, t2, v)
            np.testing.assert_allclose(h1.numpy(), h2.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name} second order")
    # prelu: gradients for x and for the weight
    x3 = rng.standard_normal((4, 3, 5))
    t1, t2 = torch.from_numpy(x3).requires_grad_(), torch.from_numpy(x3).requires_grad_()
    w1 = torch.tensor([0.25, -0.5, 0.1], dtype=torch.float64, requires_grad=True)
    w2 = w1.detach().clone().requires_grad_()
    gy = torch.from_numpy(rng.standard_normal(x3.shape))
    d1 = torch.autograd.grad(ag.prelu(t1, w1), (t1, w1), gy)
    d2 = torch.autograd.grad(F.prelu(t2, w2), (t2, w2), gy)
    for a, b in zip(d1, d2):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-13)
    # vmap over a batch of rows
    batch = torch.from_numpy(rng.standard_normal((4, 3, 6)))
    np.testing.assert_allclose(torch.func.vmap(ag.softmax)(batch).numpy(),
                               ag.softmax(batch.numpy()), rtol=1e-15)


def test_torch_masked_row_has_zero_gradient():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 2.0, -np.inf], [-np.inf] * 3])
    for name in ("softmax", "log_softmax"):
        t = torch.from_numpy(x).requires_grad_()
        y = getattr(ag, name)(t)
        (d,) = torch.autograd.grad(y, t, torch.ones_like(t))
        np.testing.assert_array_equal(d[1].numpy(), 0.0)
        np.testing.assert_array_equal(
            d.numpy(), getattr(ag, name + "_backward")(np.ones_like(x), x))
        # where torch's own gives NaN
        t2 = torch.from_numpy(x).requires_grad_()
        (d2,) = torch.autograd.grad(getattr(torch, name)(t2, -1), t2, torch.ones_like(t2))
        assert torch.isnan(d2[1]).all()


def test_jax_grad_jit_vmap_jacfwd():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(2)
    x = finite_rows(rng)
    own = {"softmax": jax.nn.softmax, "log_softmax": jax.nn.log_softmax, "glu": jax.nn.glu,
           # jax.nn has no softmin: JAX's autograd through its definition
           "softmin": lambda v, axis: jax.nn.softmax(-v, axis)}
    for name, theirs in own.items():
        for axis in (-1, 0):
            if name == "glu" and x.shape[axis] % 2:
                continue
            mine = getattr(ag, name)
            w = jnp.asarray(rng.standard_normal(mine(x, axis=axis).shape))

            def loss(f, v):
                return jnp.sum(w * f(v, axis=axis))

            d1 = jax.jit(jax.grad(lambda v: loss(mine, v)))(jnp.asarray(x))
            d2 = jax.grad(lambda v: loss(theirs, v))(jnp.asarray(x))
            np.testing.assert_allclose(d1, d2, rtol=1e-12, atol=1e-14, err_msg=name)
            np.testing.assert_allclose(
                d1, getattr(ag, name + "_backward")(np.asarray(w), x, axis=axis),
                rtol=1e-13, atol=1e-15)
            # forward mode (the JVP rules) and second order
            j1 = jax.jacfwd(lambda v: mine(v, axis=axis))(jnp.asarray(x))
            j2 = jax.jacfwd(lambda v: theirs(v, axis=axis))(jnp.asarray(x))
            np.testing.assert_allclose(j1, j2, rtol=1e-12, atol=1e-14, err_msg=f"{name} jacfwd")
            h1 = jax.hessian(lambda v: loss(mine, v))(jnp.asarray(x))
            h2 = jax.hessian(lambda v: loss(theirs, v))(jnp.asarray(x))
            np.testing.assert_allclose(h1, h2, rtol=1e-10, atol=1e-12, err_msg=f"{name} hessian")
    # vmap over a batch
    batch = rng.standard_normal((4, 3, 6))
    np.testing.assert_allclose(jax.vmap(ag.log_softmax)(jnp.asarray(batch)),
                               ag.log_softmax(batch), rtol=1e-15)
    # prelu against a hand-written prelu
    x3 = rng.standard_normal((4, 3, 5))
    wt = jnp.asarray([0.25, -0.5, 0.1])
    gy = jnp.asarray(rng.standard_normal(x3.shape))

    def by_hand(v, wv):
        return jnp.where(v > 0, v, wv[:, None] * v)

    d1 = jax.grad(lambda v, wv: jnp.sum(gy * ag.prelu(v, wv)), argnums=(0, 1))(jnp.asarray(x3), wt)
    d2 = jax.grad(lambda v, wv: jnp.sum(gy * by_hand(v, wv)), argnums=(0, 1))(jnp.asarray(x3), wt)
    for a, b in zip(d1, d2):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    j1 = jax.jacfwd(ag.prelu, argnums=1)(jnp.asarray(x3), wt)
    j2 = jax.jacfwd(by_hand, argnums=1)(jnp.asarray(x3), wt)
    np.testing.assert_allclose(j1, j2, rtol=1e-15)


def test_jax_masked_row_has_zero_gradient():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    x = jnp.asarray([[1.0, 2.0, -np.inf], [-np.inf] * 3])
    d = jax.grad(lambda v: jnp.sum(ag.softmax(v) * jnp.arange(3.0)))(x)
    np.testing.assert_array_equal(np.asarray(d)[1], 0.0)
    assert np.isfinite(np.asarray(d)).all()


def test_kernels_on_the_numpy_namespace():
    """The Array API kernels CuPy runs, on array_api_compat's NumPy namespace:
    a check of that path on machines without a GPU."""
    from array_api_compat import numpy as xp_numpy

    from actgrad.backends import xp_axis as _xp_axis

    rng = np.random.default_rng(3)
    x = rows("float64", rng)
    g = rng.standard_normal(x.shape)
    with np.errstate(all="ignore"):
        for name in ("softmax", "log_softmax"):
            kernel = _xp_axis.AXIS_KERNELS[name]
            for axis in (-1, -2):
                assert_close(kernel.f(xp_numpy, x, axis), getattr(ag, name)(x, axis=axis), name)
                assert_close(kernel.backward(xp_numpy, g, x, axis),
                             getattr(ag, name + "_backward")(g, x, axis=axis), name,
                             scale=cancelling_scales(BY_NAME[name], BY_NAME[name].forms[1],
                                                     (g, x), {"axis": axis})[0])
        glu = _xp_axis.AXIS_KERNELS["glu"]
        assert_close(glu.f(xp_numpy, x, -1), ag.glu(x), "glu")
        assert_close(glu.backward(xp_numpy, g[:, :3], x, -1), ag.glu_backward(g[:, :3], x), "glu")


# --- masked arrays: masked entries are absent -----------------------------------


def test_masked_entries_are_absent():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5)) * 3
    g = rng.standard_normal((3, 5))
    mask = np.array([[0, 1, 0, 0, 1], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]], bool)
    mx = np.ma.masked_array(x, mask=mask)
    for name in ("softmax", "log_softmax", "softmin"):
        r = getattr(ag, name)(mx)
        b = getattr(ag, name + "_backward")(g, mx)
        assert isinstance(r, np.ma.MaskedArray) and isinstance(b, np.ma.MaskedArray)
        np.testing.assert_array_equal(np.ma.getmaskarray(r), mask)
        np.testing.assert_array_equal(np.ma.getmaskarray(b), mask)
        for i in range(2):  # each row is the function of its unmasked entries
            keep = ~mask[i]
            np.testing.assert_allclose(r[i].compressed(), getattr(ag, name)(x[i, keep]),
                                       rtol=1e-15)
            np.testing.assert_allclose(
                b[i].compressed(), getattr(ag, name + "_backward")(g[i, keep], x[i, keep]),
                rtol=1e-14, atol=1e-16)
    # softmax's entries in a row with masked entries sum to 1 without them
    np.testing.assert_allclose(ag.softmax(mx)[0].sum(), 1.0, rtol=1e-15)
    # a masked grad_output entry adds nothing
    mg = np.ma.masked_array(g, mask=np.eye(3, 5, dtype=bool))
    b = ag.softmax_backward(mg, x)
    s = ag.softmax(x)
    keep = ~np.eye(3, 5, dtype=bool)
    by_hand = s * (g - np.sum(np.where(keep, g * s, 0), axis=-1, keepdims=True))
    np.testing.assert_allclose(b.compressed(), by_hand[keep], rtol=1e-13)
    # glu: an output is masked where either half is
    r = ag.glu(np.ma.masked_array(x[:, :4], mask=mask[:, :4]))
    np.testing.assert_array_equal(np.ma.getmaskarray(r), mask[:, :2] | mask[:, 2:4])
    np.testing.assert_array_equal(np.ma.getdata(r), ag.glu(x[:, :4]))
    d = ag.glu_backward(g[:, :2], np.ma.masked_array(x[:, :4], mask=mask[:, :4]))
    gate = mask[:, :2] | mask[:, 2:4]
    np.testing.assert_array_equal(np.ma.getmaskarray(d), np.concatenate([gate, gate], -1))
    # prelu: grad_weight sums over the unmasked entries only
    w = np.array([0.25, -0.5, 0.1, 2.0, 0.0])
    gi, gw = ag.prelu_backward(g, mx, w)
    np.testing.assert_array_equal(np.ma.getmaskarray(gi), mask)
    by_hand = np.sum(np.where(~mask & (x < 0), g * x, 0), axis=0)
    np.testing.assert_allclose(gw, by_hand, rtol=1e-14)


def test_xarray_keeps_names_and_takes_numpy_operands():
    xr = pytest.importorskip("xarray")
    rng = np.random.default_rng(5)
    x = xr.DataArray(rng.standard_normal((3, 4)), dims=("batch", "cls"),
                     coords={"cls": list("abcd")}, attrs={"units": "1"})
    s = ag.softmax(x, axis=0)
    assert s.dims == x.dims and list(s.coords["cls"].values) == list("abcd")
    np.testing.assert_array_equal(s.values, ag.softmax(x.values, axis=0))
    g = rng.standard_normal((1, 4))  # a NumPy grad_output broadcasts by position
    b = ag.log_softmax_backward(g, x)
    np.testing.assert_array_equal(b.values, ag.log_softmax_backward(g, x.values))
    half = ag.glu(x)
    assert half.dims == x.dims and half.shape == (3, 2)



def test_quantities_along_an_axis():
    u = pytest.importorskip("astropy.units")
    pint = pytest.importorskip("pint")
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    g = np.array([[0.5, -1.0, 2.0, 0.25]])
    w = np.array([0.1, 0.2, 0.3, 0.4])
    q = (x * 1000) * u.m / u.km  # dimensionless, scaled
    np.testing.assert_allclose(ag.softmax(q).to_value(u.dimensionless_unscaled),
                               ag.softmax(x), rtol=1e-15)
    b = ag.log_softmax_backward(g * u.J, q)
    assert b.unit == u.J
    np.testing.assert_allclose(b.value, ag.log_softmax_backward(g, x), rtol=1e-15)
    gi, gw = ag.prelu_backward(g * u.J, -q, w)
    assert gi.unit == u.J and gw.unit == u.J
    np.testing.assert_allclose(gw.value, ag.prelu_backward(g, -x, w)[1], rtol=1e-15)
    with pytest.raises(u.UnitTypeError, match=r"actgrad\.glu: x must be dimensionless"):
        ag.glu(x * u.m)
    ureg = pint.UnitRegistry()
    gi, gw = ag.prelu_backward(ureg.Quantity(g, "N"), ureg.Quantity(-x, ""), w)
    assert gi.units == ureg.N and gw.units == ureg.N
    np.testing.assert_allclose(gw.magnitude, ag.prelu_backward(g, -x, w)[1], rtol=1e-15)
    with pytest.raises(pint.DimensionalityError, match="x must be dimensionless"):
        ag.prelu_backward(g, ureg.Quantity(x, "m"), w)
