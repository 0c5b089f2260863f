"""actgrad on other array libraries: every table entry x backend x dtype x shape.

The NumPy ufunc is the reference: each backend's result must be of the
backend's own type and hold the same numbers (bit for bit, signs of zeros
included, for the exact entries; within 4 ulp otherwise, 1 ulp for float16).
The 4 ulp of the smooth entries (their table tolerance_ulp) hold on torch and
JAX too: their kernels compute float32 in float64 where the library has it,
and for float64 keep the C++ kernels' stable forms (double-double arguments
where exp or erfc would magnify a rounding error), so the libraries' own
exp/expm1/log1p/erfc (about 1 ulp each) leave them inside the bound.
Backends come from ``ACTGRAD_TEST_BACKENDS`` (see xp_backends.py).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import actgrad as ag
from actgrad.backends import xp_kernels as _xp_kernels
from actgrad._table import ACTIVATIONS, FORMS

from . import xp_backends

BACKENDS = xp_backends.selected()
FUNCTIONS = [(act, form) for act in ACTIVATIONS for form in FORMS]
DTYPES = ["float16", "float32", "float64", "int32", "bool"]


xp = xp_backends.xp


def param_sets(act):
    sets = [act.default_params()] if all(not p.required for p in act.params) else []
    return sets + [dict(p) for p in act.test_params]


def grid(act, params, dtype):
    """Every kink exactly, both signed zeros, +-inf, NaN, tiny and huge values."""
    if dtype == "bool":
        return np.array([True, False, True])
    kinks = [float(k) for k in act.kink_points(**params)]
    base = [-0.0, 0.0, 1.0, -1.0, 0.25, -0.25, 2.5, -3.0, 6.0, 7.0, 1e-30, -1e-30, 1e30, -1e30]
    if np.dtype(dtype).kind in "iu":
        values = np.array([v for v in base + kinks if abs(v) < 100 and v == int(v)] + [-7, 5])
        return values.astype(dtype)
    values = base + kinks + [np.inf, -np.inf, np.nan]
    values += [np.nextafter(k, s) for k in kinks for s in (-np.inf, np.inf)]
    with np.errstate(over="ignore"):
        return np.array(values, dtype=dtype)


def ulp_tolerance(act, dtype):
    return 1 if dtype == np.float16 else max(4, act.tolerance_ulp)


def assert_same(actual, expected, act, where="", slack=1):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype, f"{where}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{where}: shape {actual.shape} != {expected.shape}"
    if expected.dtype.kind != "f":
        np.testing.assert_array_equal(actual, expected, err_msg=where)
        return
    if act.tolerance_ulp == 0:  # exact: bit for bit, -0.0 and NaN included
        bad = actual.view(f"u{actual.itemsize}") != expected.view(f"u{expected.itemsize}")
        bad &= ~(np.isnan(actual) & np.isnan(expected))
        assert not bad.any(), (f"{where}: differ at {np.flatnonzero(bad)[:10]}: "
                               f"{actual[bad][:10]} != {expected[bad][:10]}")
        return
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=where)
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(actual[~finite & ~np.isnan(expected)],
                                  expected[~finite & ~np.isnan(expected)], err_msg=where)
    np.testing.assert_array_max_ulp(actual[finite], expected[finite],
                                    maxulp=slack * ulp_tolerance(act, expected.dtype))


def call(act, form, arrays, params):
    return getattr(ag, act.function_name(form))(*arrays, **params)


def without_subnormals(x):
    """XLA on CPU flushes subnormals to zero (see docs/array_libraries.md)."""
    if x.dtype.kind != "f":
        return x
    return x[~((x != 0) & (np.abs(x) < np.finfo(x.dtype).smallest_normal))]


def cases(act, form, dtype, xp):
    """(label, NumPy input arrays, params) for 0-d, empty, vector and broadcast shapes."""
    for i, params in enumerate(param_sets(act)):
        x = grid(act, params, dtype)
        if xp.flushes_subnormals:
            x = without_subnormals(x)
        g = np.resize(np.array([1.5, -2.0, np.inf, np.nan, 3.0, 0.0]), x.shape).astype(
            dtype if dtype.startswith("float") else "float64")
        both = form.kind == "backward"
        yield f"vector {params}", ((g, x) if both else (x,)), params
        if i:  # the other shapes with the first parameter set only
            continue
        yield f"0-d {params}", ((g[1:2].reshape(()), x[2:3].reshape(())) if both
                                else (x[2:3].reshape(()),)), params
        yield f"empty {params}", ((g[:0], x[:0]) if both else (x[:0].reshape(0, 2),)), params
        if both and not xp.positional_broadcast:
            continue
        if both:  # grad_output (2, 1) against x (n,)
            yield f"broadcast {params}", (np.array([[1.0], [-0.5]], g.dtype), x), params
        else:
            yield f"2-d {params}", (np.stack([x, x[::-1]]),), params


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act, form", FUNCTIONS, ids=[a.function_name(f) for a, f in FUNCTIONS])
def test_same_numbers_as_numpy(xp, act, form, dtype):
    if dtype in xp.unsupported:
        pytest.skip(f"{xp.name} has no {dtype}")
    if xp.name != "cupy" and xp.own_library and act.kernel_struct not in _xp_kernels.KERNELS:
        pytest.skip(f"{act.name} has no Array API kernel (test_every_entry_has_an_xp_kernel)")
    for label, arrays, params in cases(act, form, dtype, xp):
        expected = np.asarray(call(act, form, arrays, params))
        result = call(act, form, [xp.asarray(a) for a in arrays], params)
        assert xp.is_own(result), f"{label}: got {type(result).__name__}"
        assert_same(xp.to_numpy(result), expected, act, f"{xp.name} {label}")


@pytest.mark.parametrize("act", [a for a in ACTIVATIONS if a.params], ids=lambda a: a.name)
def test_parameters_broadcast(xp, act):
    if not xp.positional_broadcast:
        pytest.skip(f"{xp.name} broadcasts by dimension name, not by position")
    if xp.name != "cupy" and xp.own_library and act.kernel_struct not in _xp_kernels.KERNELS:
        pytest.skip(f"{act.name} has no Array API kernel (test_every_entry_has_an_xp_kernel)")
    params = param_sets(act)[-1]
    x = without_subnormals(grid(act, params, "float64"))
    # the first numeric parameter as a (2, 1) array: two parameter values, one
    # per row (a selector -- a string, or None vs a number -- picks a ufunc)
    numeric = [p.name for p in act.params if p.name != act.selector]
    if not numeric:
        pytest.skip(f"{act.name} has no numeric parameter")
    first = numeric[0]
    arrays = dict(params, **{first: np.array([[params[first]], [params[first] * 0.5]])})
    for form in FORMS:
        args = (np.ones_like(x), x) if form.kind == "backward" else (x,)
        expected = call(act, form, args, arrays)
        result = call(act, form, [xp.asarray(a) for a in args], arrays)
        assert_same(xp.to_numpy(result), expected, act, f"{xp.name} {act.function_name(form)}")


def test_every_entry_has_an_xp_kernel():
    missing = [a.name for a in ACTIVATIONS if a.kernel_struct not in _xp_kernels.KERNELS]
    assert not missing, f"declare Array API kernels in actgrad/backends/xp_kernels.py for {missing}"


# --- autograd through actgrad's functions -----------------------------------

def smooth_points(act, params):
    x = grid(act, params, "float64")
    return x[np.isfinite(x) & (np.abs(x) < 1e3)]


def torch_or_skip():
    backend = xp_backends.ALL["torch"]
    if backend.name not in [b.name for b, why in BACKENDS if why is None]:
        pytest.skip("torch not among the backends under test")
    import torch

    return torch


def jax_or_skip():
    backend = xp_backends.ALL["jax"]
    if backend.name not in [b.name for b, why in BACKENDS if why is None]:
        pytest.skip("jax not among the backends under test")
    import jax

    return jax


def same_derivative(actual, expected, act, where=""):
    """Bit for bit for the exact entries; within the entry's ulp bound (NaN
    and +-inf at the same places) for the smooth ones."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if act.tolerance_ulp == 0:
        np.testing.assert_array_equal(actual, expected, err_msg=where)
    else:
        assert_same(actual, expected, act, where)


#: parameter sets the library's own function cannot take, or takes with
#: other semantics (softplus without a threshold is the exact function here;
#: torch.nn.functional.softplus always switches at its threshold)
def library_param_sets(act):
    if act.name == "softplus":
        return [p for p in param_sets(act) if p.get("threshold") is not None]
    return param_sets(act)


#: the smooth entries against the library's own autograd: moderate inputs
#: (|x| <= 20, away from the underflow of the tails, where the libraries'
#: textbook derivatives such as s (1 - s) lose all their digits) and a
#: relative tolerance, since those derivatives are not correctly rounded
#: (cancellation around the roots of f' and f'' costs them digits).
MODERATE = 20.0
LIBRARY_RTOL, LIBRARY_ATOL = 1e-9, 1e-15


#: torch's hardsigmoid_backward multiplies by 1/6 rounded to float32, even
#: for float64 (relative error 3e-8)
LIBRARY_RTOL_FOR = {"hardsigmoid": 1e-7}


def compare_with_library(mine, theirs, act, params):
    if act.tolerance_ulp == 0:
        np.testing.assert_array_equal(mine, theirs, err_msg=str(params))
    else:
        np.testing.assert_allclose(mine, theirs, atol=LIBRARY_ATOL, err_msg=str(params),
                                   rtol=LIBRARY_RTOL_FOR.get(act.name, LIBRARY_RTOL))


def library_points(act, params):
    x = smooth_points(act, params)
    if act.tolerance_ulp == 0:
        return x
    # Beside a kink (nextafter(3, -inf) for hardswish) the libraries' x + 3
    # rounds onto the kink and their derivative takes the other branch.
    kinks = np.asarray(act.kink_points(**params), dtype=float)
    near = (np.abs(x[:, None] - kinks[None, :]) < 1e-9).any(axis=1) & ~np.isin(x, kinks)
    return x[(np.abs(x) <= MODERATE) & ~near]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: a.name)
def test_torch_autograd_matches_torch(act):
    """torch.autograd through ag.NAME == torch.autograd through torch's own
    function, kinks included (docs/contract.rst "Kinks": PyTorch's conventions); bit for bit
    for the exact entries, to a relative 1e-9 for the smooth ones."""
    torch = torch_or_skip()
    # PyTorch lacks some (squareplus, sparse_plus): test_jax_grad_jit_vmap
    # compares those with JAX's own functions
    fn = getattr(torch.nn.functional, act.torch_name) if act.torch_name else None
    for params in library_param_sets(act) if fn is not None else ():
        x = library_points(act, params)
        gy = torch.from_numpy(np.resize([1.5, -2.0, 0.5], x.shape))
        t1 = torch.from_numpy(x).requires_grad_()
        t2 = torch.from_numpy(x).requires_grad_()
        (mine,) = torch.autograd.grad(getattr(ag, act.name)(t1, **params), t1, gy)
        (theirs,) = torch.autograd.grad(fn(t2, **params), t2, gy)
        compare_with_library(mine.numpy(), theirs.numpy(), act, params)
    for params in param_sets(act):
        x = smooth_points(act, params)
        gy = torch.from_numpy(np.resize([1.5, -2.0, 0.5], x.shape))
        t1 = torch.from_numpy(x).requires_grad_()
        (mine,) = torch.autograd.grad(getattr(ag, act.name)(t1, **params), t1, gy)
        # and it is actgrad's own backward pass on NumPy
        same_derivative(mine.numpy(), getattr(ag, act.name + "_backward")(gy.numpy(), x, **params),
                        act, str(params))


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: a.name)
def test_torch_higher_order_and_nan(act):
    torch = torch_or_skip()
    params = param_sets(act)[0]
    x = grid(act, params, "float64")  # NaN and +-inf included
    t = torch.from_numpy(x).requires_grad_()
    y = getattr(ag, act.name)(t, **params)
    (d,) = torch.autograd.grad(y.sum(), t, create_graph=True)
    (d2,) = torch.autograd.grad(d.sum(), t)
    # NaN stays NaN through autograd, as in actgrad's derivatives
    same_derivative(d.detach().numpy(), getattr(ag, act.name + "_grad")(x, **params), act)
    same_derivative(d2.numpy(), getattr(ag, act.name + "_grad2")(x, **params), act)
    # torch.func transforms
    tx = torch.from_numpy(smooth_points(act, params))
    f = getattr(ag, act.name)
    per_element = torch.func.vmap(torch.func.grad(lambda v: f(v, **params)))(tx)
    same_derivative(per_element.numpy(), getattr(ag, act.name + "_grad")(tx.numpy(), **params), act)


def jax_own_functions(jax):
    """JAX's own function with actgrad's semantics, per entry, where it has one."""
    nn, jnp = jax.nn, jax.numpy
    own = {"relu": nn.relu, "relu6": nn.relu6, "leaky_relu": nn.leaky_relu,
           "sigmoid": nn.sigmoid, "logsigmoid": nn.log_sigmoid, "tanh": jnp.tanh,
           "silu": nn.silu, "elu": nn.elu, "selu": nn.selu, "celu": nn.celu,
           "hardsigmoid": nn.hard_sigmoid, "hardswish": nn.hard_swish,
           "softsign": nn.soft_sign,
           "squareplus": nn.squareplus, "sparse_plus": nn.sparse_plus,
           "sparse_sigmoid": nn.sparse_sigmoid,
           "gelu": lambda v, approximate: nn.gelu(v, approximate=approximate == "tanh"),
           "softplus": lambda v, beta, threshold: (
               nn.softplus(v) if beta == 1.0 and threshold is None else None)}
    if hasattr(nn, "mish"):
        own["mish"] = nn.mish
    return own


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: a.name)
def test_jax_grad_jit_vmap(act):
    """jax.grad through ag.NAME gives actgrad's derivative (NaN and kinks
    included), under jit and vmap; it agrees with jax.grad through JAX's own
    function where JAX has one, away from the kinks (smooth entries: on
    moderate inputs, to a relative 1e-9)."""
    jax = jax_or_skip()
    import jax.numpy as jnp

    own = jax_own_functions(jax)
    for params in param_sets(act):
        x = without_subnormals(grid(act, params, "float64"))
        f = getattr(ag, act.name)
        d = jax.jit(jax.vmap(jax.grad(lambda v: f(v, **params))))(jnp.asarray(x))
        same_derivative(d, getattr(ag, act.name + "_grad")(x, **params), act, str(params))
        d2 = jax.vmap(jax.grad(jax.grad(lambda v: f(v, **params))))(jnp.asarray(x))
        same_derivative(d2, getattr(ag, act.name + "_grad2")(x, **params), act, str(params))
        if act.name in own:
            theirs_f = own[act.name]
            if act.name == "softplus" and (params["beta"] != 1.0 or params["threshold"] is not None):
                continue
            if act.name == "softplus":
                theirs_f = jax.nn.softplus
                params_theirs = {}
            else:
                params_theirs = params
            smooth = without_subnormals(library_points(act, params))
            smooth = smooth[~np.isin(smooth, act.kink_points(**params))]
            theirs = jax.vmap(jax.grad(lambda v: theirs_f(v, **params_theirs)))(jnp.asarray(smooth))
            mine = jax.vmap(jax.grad(lambda v: f(v, **params)))(jnp.asarray(smooth))
            compare_with_library(np.asarray(mine), np.asarray(theirs), act, params)


def test_jax_without_x64_gives_its_default_float():
    jax = jax_or_skip()
    import jax.numpy as jnp

    if hasattr(jax, "enable_x64"):
        without_x64 = jax.enable_x64(False)
    else:  # older JAX
        from jax.experimental import disable_x64 as without_x64
        without_x64 = without_x64()
    with without_x64:
        y = ag.relu_grad(jnp.asarray([-1, 2], dtype=jnp.int32))
        assert y.dtype == jnp.float32
        np.testing.assert_array_equal(np.asarray(y), [0.0, 1.0])
        # float32 is computed by the float32 ufunc itself, subnormals included
        for act in ACTIVATIONS:
            for params in param_sets(act):
                x = grid(act, params, "float32")
                for form in FORMS:
                    args = (np.ones_like(x), x) if form.kind == "backward" else (x,)
                    got = np.asarray(call(act, form, [jnp.asarray(a) for a in args], params))
                    want = call(act, form, args, params)
                    assert got.dtype == want.dtype
                    same = (got.view(np.uint32) == want.view(np.uint32)) | (
                        np.isnan(got) & np.isnan(want))
                    assert same.all(), (f"jax float32 without x64 {act.function_name(form)} "
                                        f"{params}: x={x[~same][:5]}")


def test_native_declarations_match_the_kernels():
    """Every `native` function declared in backends/xp_kernels.py equals the ufunc, bit
    for bit, on every grid (else it must not be declared)."""
    checked = 0
    for act in ACTIVATIONS:
        native = getattr(_xp_kernels.KERNELS.get(act.kernel_struct), "native", {})
        for backend_name, fn in native.items():
            backend = xp_backends.ALL[backend_name]
            if backend.available() is not None:
                continue
            module = __import__(backend_name)
            for params in param_sets(act):
                for dtype in ("float32", "float64"):
                    x = grid(act, params, dtype)
                    if backend.flushes_subnormals:
                        x = without_subnormals(x)
                    got = fn(module, backend.asarray(x), *params.values())
                    assert_same(backend.to_numpy(got), getattr(ag, act.name)(x, **params), act,
                                f"native {backend_name} {act.name} {params}")
                    checked += 1
    if not checked:
        pytest.skip("no backend with native declarations is installed")


# --- the dispatch itself -----------------------------------------------------

def test_import_pulls_in_no_array_library():
    code = (
        "import sys, numpy as np, actgrad as ag\n"
        "ag.relu_grad(np.ones(3)); ag.leaky_relu_backward([1.0], 2.0, negative_slope=0.1)\n"
        "ag.hardtanh(np.ma.masked_array([1.0, 3.0], mask=[0, 1]))\n"
        "mods = ('torch', 'jax', 'jaxlib', 'cupy', 'dask', 'xarray', 'pint', 'astropy',\n"
        "        'array_api_compat', 'scipy', 'pandas')\n"
        "print(sorted(m for m in mods if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_public_functions_behave_like_their_ufuncs():
    x = np.array([-1.0, 0.0, 2.0, np.nan])
    for act, form in FUNCTIONS:
        f = getattr(ag, act.function_name(form))
        assert pickle.loads(pickle.dumps(f)) is f
        if act.selector:  # one ufunc per variant, picked by the selector
            for variant in act.variants:
                u = f.ufuncs[variant.key]
                assert u is getattr(ag.ufuncs, act.name + variant.suffix + form.suffix)
                assert isinstance(u, np.ufunc) and pickle.loads(pickle.dumps(u)) is u
            continue
        assert f.ufunc is getattr(ag.ufuncs, act.function_name(form))
        assert isinstance(f.ufunc, np.ufunc)
        assert pickle.loads(pickle.dumps(f.ufunc)) is f.ufunc
        if not act.params:
            assert (f.nin, f.nout, f.types) == (f.ufunc.nin, f.ufunc.nout, f.ufunc.types)
    out = np.full(4, 7.0)
    assert ag.relu_grad(x, out=out) is out
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0, np.nan])
    out2 = np.full(4, 7.0)
    assert ag.relu_grad(x, out2) is out2  # positional out, as for any ufunc
    where = np.array([True, False, True, False])
    np.testing.assert_array_equal(ag.relu(x, out=np.full(4, 7.0), where=where), [0, 7, 2, 7])
    assert ag.relu_grad(x, dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError):  # casting= honoured: float64 -> int is unsafe
        ag.relu(x, out=np.empty(4, np.int64), casting="safe")
    np.testing.assert_array_equal(ag.leaky_relu_grad(x, negative_slope=0.5, where=where,
                                                     out=np.zeros(4)), [0.5, 0, 1, 0])
    assert ag.relu_grad(2.0) == 1.0 and ag.relu_backward(3.0, [1.0, -1.0]).tolist() == [3.0, 0.0]


def test_foreign_arrays_refuse_numpy_only_keywords():
    torch = torch_or_skip()
    with pytest.raises(TypeError, match="NumPy input only"):
        ag.relu_grad(torch.ones(3), out=torch.empty(3))
    with pytest.raises(TypeError, match="unsupported input dtype"):
        ag.relu(torch.ones(3, dtype=torch.complex64))
    with pytest.raises(ValueError, match="lambd"):
        ag.softshrink(torch.ones(3), lambd=-1.0)


def test_special_functions_for_kernel_authors():
    torch = torch_or_skip()
    import array_api_compat

    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    erfc = _xp_kernels.special(array_api_compat.array_namespace(t), "erfc")
    np.testing.assert_allclose(erfc(t).numpy(), [1.0, 0.15729920705028513], rtol=1e-15)


def test_mixed_inputs_follow_the_foreign_array():
    torch = torch_or_skip()
    g, x = np.array([2.0, 2.0]), torch.tensor([-1.0, 1.0])
    y = ag.relu_backward(g, x)
    assert isinstance(y, torch.Tensor) and y.tolist() == [0.0, 2.0]
    assert ag.relu_backward(3.0, x).tolist() == [0.0, 3.0]
    bf16 = ag.leaky_relu(torch.tensor([-1.0, 2.0], dtype=torch.bfloat16), negative_slope=0.1)
    assert bf16.dtype == torch.bfloat16


# --- __array_ufunc__ libraries -----------------------------------------------

def test_masked_arrays_keep_their_mask():
    x = np.ma.masked_array([-1.0, 0.0, 2.0, 5.0], mask=[0, 1, 0, 1])
    y = ag.relu_backward(np.ones(4), x)
    assert isinstance(y, np.ma.MaskedArray)
    np.testing.assert_array_equal(y.mask, x.mask)
    np.testing.assert_array_equal(y.compressed(), [0.0, 1.0])
    y = ag.hardtanh_grad(x, min_val=-2.0, max_val=1.0)
    np.testing.assert_array_equal(y.mask, x.mask)


def test_xarray_keeps_coordinates():
    xr = pytest.importorskip("xarray")
    x = xr.DataArray([-1.0, 0.5, 3.0], dims=["t"], coords={"t": [10, 20, 30]})
    y = ag.leaky_relu_backward(xr.ones_like(x), x, negative_slope=0.25)
    assert isinstance(y, xr.DataArray) and list(y.coords["t"].values) == [10, 20, 30]
    np.testing.assert_array_equal(y.values, [0.25, 1.0, 1.0])


def test_pint_dimensionless_in_and_out():
    pint = pytest.importorskip("pint")
    ureg = pint.UnitRegistry()
    x = ureg.Quantity(np.array([-1.0, 500.0, 2000.0]), "m/km")  # dimensionless, scaled
    y = ag.relu6(x)
    assert y.units == ureg.dimensionless
    np.testing.assert_array_equal(y.magnitude, [0.0, 0.5, 2.0])
    g = ureg.Quantity(np.array([3.0, 3.0, 3.0]), "J")
    back = ag.relu_backward(g, x)  # grad_output keeps its units: f' has none
    assert back.units == ureg.joule
    np.testing.assert_array_equal(back.magnitude, [0.0, 3.0, 3.0])
    with pytest.raises(pint.DimensionalityError, match="actgrad.relu_grad: x must be dimensionless"):
        ag.relu_grad(ureg.Quantity([1.0], "m"))
    # the raw ufuncs work too, once pint has been told
    assert ag.ufuncs.leaky_relu(x, 0.5).units == ureg.dimensionless


def test_astropy_dimensionless_in_and_out():
    u = pytest.importorskip("astropy.units")
    x = np.array([-1.0, 500.0, 2000.0]) * u.m / u.km
    y = ag.relu6(x)
    assert y.unit == u.dimensionless_unscaled
    np.testing.assert_array_equal(y.value, [0.0, 0.5, 2.0])
    back = ag.relu_backward([3.0, 3.0, 3.0] * u.J, x)
    assert back.unit == u.J
    np.testing.assert_array_equal(back.value, [0.0, 3.0, 3.0])
    with pytest.raises(u.UnitTypeError, match="actgrad.relu_grad: x must be dimensionless"):
        ag.relu_grad([1.0] * u.m)


def test_quantity_registration_when_imported_first():
    pytest.importorskip("pint")
    code = ("import pint, numpy as np, actgrad as ag\n"
            "q = pint.UnitRegistry().Quantity(np.array([-1.0, 2.0]), '')\n"
            "print(ag.ufuncs.relu_grad(q).magnitude.tolist())\n")
    with warnings.catch_warnings():
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[0.0, 1.0]", out.stderr
