"""The activations along an axis: softmax, log_softmax, glu, prelu.

Driven by ``AXIS_ACTIVATIONS`` in ``_table.py``: every form of every entry is
checked for existence, dtypes, strides, ``out=``, its doctest and PyTorch's
values; the accuracy tests hold each to the table's bound in ulp against
mpmath (50 digits), whose reference is written out here, never computed by
the code under test.

Bounds.  softmax, log_softmax and glu (forward): each element within
``tolerance_ulp`` (4) ulp of the exact value in float32 and float64, 1 ulp in
float16.  The backward passes of softmax and log_softmax end in a subtraction
(``g_j - sum(g*s)``, ``g_j - s_j*sum(g)``) whose cancellation no
working-precision algorithm avoids; they are held to 4 ulp of the exact value
plus 4 eps times the scale of the terms that cancel, ``s_j*(|g_j| +
sum|g_i|*s_i)`` and ``|g_j| + s_j*sum|g_i|``.  prelu's grad_weight, a sum of
products, likewise to 4 ulp plus eps*sum|g_i*x_i|.
"""

from __future__ import annotations

import doctest
import pickle
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actgrad as ag
from actgrad._table import AXIS_ACTIVATIONS

torch = pytest.importorskip("torch")
F = torch.nn.functional

mp = mpmath.mp
mp.dps = 50

FORMS = [(act, form) for act in AXIS_ACTIVATIONS for form in act.forms]
FORM_IDS = [act.function_name(form) for act, form in FORMS]
BY_NAME = {act.name: act for act in AXIS_ACTIVATIONS}
FLOATS = (np.float16, np.float32, np.float64, np.longdouble)
INTEGERS = (np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64)


# --------------------------------------------------------------------------
# Calling every form the same way, from the table's convention


def make_args(act, form, rng, shape=(4, 6, 8), axis=-1, dtype=np.float64):
    """Inputs for one form: random arrays of `shape` (x), with grad_output and
    weight shaped as the convention needs."""
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    if act.convention == "axis":
        arrays = {"x": x, "grad_output": rng.standard_normal(shape).astype(dtype)}
        kwargs = {"axis": axis}
    elif act.convention == "halves":
        half = list(shape)
        half[axis] //= 2
        arrays = {"x": x, "grad_output": rng.standard_normal(half).astype(dtype)}
        kwargs = {"axis": axis}
    else:
        arrays = {"x": x, "grad_output": rng.standard_normal(shape).astype(dtype),
                  "weight": rng.uniform(-0.5, 0.5, shape[1]).astype(dtype)}
        kwargs = {}
    return [arrays[a] for a in form.arrays], kwargs


def call(act, form, args, kwargs):
    return getattr(ag, act.function_name(form))(*args, **kwargs)


def torch_reference(act, form, args, kwargs):
    """PyTorch's value of the same form (autograd for the derivatives)."""
    dim = kwargs.get("axis")
    forward = {
        "softmax": lambda t: torch.softmax(t, dim),
        "log_softmax": lambda t: torch.log_softmax(t, dim),
        "softmin": lambda t: F.softmin(t, dim),
        "glu": lambda t: F.glu(t, dim),
    }
    if act.convention != "channel":
        if form.kind == "f":
            return forward[act.name](torch.from_numpy(args[0])).numpy()
        g, x = args
        t = torch.from_numpy(x.copy()).requires_grad_()
        forward[act.name](t).backward(torch.from_numpy(g))
        return t.grad.numpy()
    if form.kind == "f":
        return F.prelu(torch.from_numpy(args[0]), torch.from_numpy(args[1])).numpy()
    if form.kind == "grad":
        x, w = args
        g = np.ones_like(x)
    else:
        g, x, w = args
    t = torch.from_numpy(x.copy()).requires_grad_()
    tw = torch.from_numpy(w.copy()).requires_grad_()
    F.prelu(t, tw).backward(torch.from_numpy(g))
    if form.kind == "grad":
        return t.grad.numpy()
    return t.grad.numpy(), tw.grad.numpy()


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


# --------------------------------------------------------------------------
# The table


@pytest.mark.parametrize(("act", "form"), FORMS, ids=FORM_IDS)
def test_every_form_is_public_and_documented(act, form):
    name = act.function_name(form)
    function = getattr(ag, name)
    assert name in ag.__all__
    assert function.__module__ == "actgrad"
    raw = getattr(ag.ufuncs, name)
    assert isinstance(raw, np.ufunc)
    assert raw.signature == (form.signature or None)
    doc = function.__doc__
    for section in ("Parameters", "Returns", "Examples", ">>> ag."):
        assert section in doc
    assert act.formula in doc and act.derivative in doc
    assert doc in raw.__doc__


@pytest.mark.parametrize(("act", "form"), FORMS, ids=FORM_IDS)
def test_pickles_by_name(act, form):
    # dask ships functions to its workers by module and name.
    name = act.function_name(form)
    assert pickle.loads(pickle.dumps(getattr(ag, name))) is getattr(ag, name)
    assert pickle.loads(pickle.dumps(getattr(ag.ufuncs, name))) is getattr(ag.ufuncs, name)


@pytest.mark.parametrize(("act", "form"), FORMS, ids=FORM_IDS)
def test_doctest(act, form):
    name = act.function_name(form)
    test = doctest.DocTestParser().get_doctest(getattr(ag, name).__doc__, {}, name, None, 0)
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)


# --------------------------------------------------------------------------
# Against PyTorch, every axis, strides


@pytest.mark.parametrize(("act", "form"), FORMS, ids=FORM_IDS)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_against_torch_every_axis(act, form, axis):
    rng = np.random.default_rng(abs(hash((act.name, form.suffix, axis))) % 2**32)
    args, kwargs = make_args(act, form, rng, axis=axis)
    got = as_tuple(call(act, form, args, kwargs))
    want = as_tuple(torch_reference(act, form, args, kwargs))
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == np.float64
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15 * np.abs(w).max())


@pytest.mark.parametrize(("act", "form"), FORMS, ids=FORM_IDS)
def test_against_torch_float32(act, form):
    rng = np.random.default_rng(7)
    args, kwargs = make_args(act, form, rng, shape=(5, 8, 10), dtype=np.float32)
    got = as_tuple(call(act, form, args, kwargs))
    want = as_tuple(torch_reference(act, form, args, kwargs))
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=2e-6, atol=1e-6 * np.abs(w).max())


def strided_views(a, rng):
    """Non-contiguous views of `a`'s values: reversed, every other, transposed."""
    yield a[..., ::-1][..., ::-1]
    big = np.empty(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    big[..., ::2] = a
    yield big[..., ::2]
    yield np.asfortranarray(a)
    neg = np.empty_like(a)[::-1]
    neg[...] = a
    yield neg


@pytest.mark.parametrize(("act", "form"), FORMS, ids=FORM_IDS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, -1])
def test_strides_give_the_contiguous_result(act, form, dtype, axis):
    rng = np.random.default_rng(3)
    args, kwargs = make_args(act, form, rng, shape=(4, 6, 18), axis=axis, dtype=dtype)
    want = as_tuple(call(act, form, args, kwargs))
    for i in range(len(args)):
        for view in strided_views(args[i], rng):
            assert np.array_equal(view, args[i])
            trial = list(args)
            trial[i] = view
            for g, w in zip(as_tuple(call(act, form, trial, kwargs)), want):
                np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "glu"])
@pytest.mark.parametrize("size", list(range(1, 20)) + [31, 64, 65, 100])
def test_row_lengths_and_strides(name, size):
    # Every row length up to the vector width and beyond, in steps -2..2.
    act = BY_NAME[name]
    rng = np.random.default_rng(size)
    n = 2 * size if act.convention == "halves" else size
    x = rng.standard_normal((3, n)) * 4
    g = rng.standard_normal((3, n // 2 if act.convention == "halves" else n))
    f, b = getattr(ag, name), getattr(ag, name + "_backward")
    ref_f, ref_b = f(x), b(g, x)
    for step in (2, -1, -2):
        view = np.empty((3, n * abs(step)))[:, ::step]
        view[...] = x
        np.testing.assert_array_equal(f(view), ref_f)
        np.testing.assert_array_equal(b(g, view), ref_b)


# --------------------------------------------------------------------------
# dtypes


@pytest.mark.parametrize(("act", "form"), FORMS, ids=FORM_IDS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_float_dtypes_are_kept(act, form, dtype):
    rng = np.random.default_rng(1)
    args, kwargs = make_args(act, form, rng, dtype=dtype)
    for r in as_tuple(call(act, form, args, kwargs)):
        assert r.dtype == dtype


@pytest.mark.parametrize(("act", "form"), FORMS, ids=FORM_IDS)
@pytest.mark.parametrize("dtype", INTEGERS)
def test_integers_and_bool_compute_in_float64(act, form, dtype):
    rng = np.random.default_rng(2)
    args, kwargs = make_args(act, form, rng)
    ints = [np.clip(np.round(a), 0 if dtype in (np.bool_, np.uint8, np.uint64) else -4, 4)
            .astype(dtype) for a in args]
    got = as_tuple(call(act, form, ints, kwargs))
    want = as_tuple(call(act, form, [a.astype(np.float64) for a in ints], kwargs))
    for g, w in zip(got, want):
        assert g.dtype == np.float64
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize(("act", "form"), FORMS, ids=FORM_IDS)
def test_float16_is_float32_rounded_once(act, form):
    # Within 1 ulp of float16 from the float64 result (itself within a few
    # float64 ulp of the exact value).
    rng = np.random.default_rng(4)
    args, kwargs = make_args(act, form, rng, shape=(6, 8, 10), dtype=np.float16)
    got = as_tuple(call(act, form, args, kwargs))
    want = as_tuple(call(act, form, [a.astype(np.float64) for a in args], kwargs))
    for g, w in zip(got, want):
        assert g.dtype == np.float16
        rounded = w.astype(np.float16)
        ulps = np.abs(g.astype(np.float64) - w) / np.spacing(np.abs(rounded)).astype(np.float64)
        assert np.nanmax(ulps) <= 1.0


@pytest.mark.parametrize(("act", "form"), FORMS, ids=FORM_IDS)
@pytest.mark.parametrize("dtype", [np.complex128, object, "U3"])
def test_unsupported_dtypes_raise_type_error(act, form, dtype):
    rng = np.random.default_rng(0)
    args, kwargs = make_args(act, form, rng)
    bad = [a.astype(dtype) for a in args]
    with pytest.raises(TypeError, match=act.function_name(form)):
        call(act, form, bad, kwargs)


def mp_longdouble(v):
    """A long double exactly, as the sum of two doubles."""
    hi = float(v)
    return mp.mpf(hi) + mp.mpf(float(v - np.longdouble(hi)))


def test_long_double_is_computed_in_long_double():
    fi = np.finfo(np.longdouble)
    if fi.eps >= np.finfo(np.float64).eps:
        pytest.skip("long double is double here")
    x = np.array([1.0, 2.0, 3.0, -40.0], np.longdouble) / 3
    xs = [mp_longdouble(v) for v in x]
    terms = [mp.exp(v - max(xs)) for v in xs]
    exact = [t / mp.fsum(terms) for t in terms]
    got = [mp_longdouble(v) for v in ag.softmax(x)]
    assert max(abs(g - e) / e for g, e in zip(got, exact)) < 8 * mp.mpf(float(fi.eps))


# --------------------------------------------------------------------------
# Accuracy against mpmath


def ulp(exact, dtype):
    """The unit in the last place of `exact` (an mpf) in `dtype`."""
    fi = np.finfo(dtype)
    tiny = mp.mpf(float(fi.smallest_subnormal))
    if exact == 0:
        return tiny
    _, e = mp.frexp(exact)
    return max(mp.ldexp(1, int(e) - (fi.nmant + 1)), tiny)


def ulp_errors(got, exact, dtype):
    """|got - exact| in ulp of exact, elementwise; 0 where both are the same inf."""
    out = []
    fi = np.finfo(dtype)
    # max + half its ulp: from there on, rounding to dtype gives inf.
    overflow = mp.mpf(float(fi.max)) + mp.ldexp(1, fi.maxexp - fi.nmant - 2)
    for g, e in zip(np.ravel(got), exact):
        g = float(g)
        if abs(e) >= overflow:  # rounds to inf in dtype
            e = mp.inf if e > 0 else -mp.inf
        if mp.isinf(e) or np.isinf(g) or np.isnan(g):
            out.append(0.0 if g == e else np.inf)
        else:
            out.append(float(abs(mp.mpf(g) - e) / ulp(e, dtype)))
    return np.array(out)


def mp_softmax_row(row):
    """(softmax, log_softmax, S) of a finite row, exactly: S = the sum of the
    terms but one at the maximum, so log-sum-exp = log1p(S)."""
    xs = [mp.mpf(float(v)) for v in row]
    m = max(xs)
    k = xs.index(m)
    terms = [mp.exp(v - m) for v in xs]
    rest = mp.fsum(terms[:k] + terms[k + 1:])
    lse = mp.log1p(rest)
    return [t / (1 + rest) for t in terms], [(v - m) - lse for v in xs]


def sample_rows(dtype, rng):
    """Finite rows over the dtype's range: spreads from tiny to where exp
    underflows, offsets that make x - max inexact, long rows for the sums."""
    fi = np.finfo(dtype)
    big = float(np.log(fi.max))  # 709 or 88
    rows = []
    for n in (1, 2, 3, 7, 33, 200):
        for spread in (1e-30, 1e-3, 1.0, 8.0, big / 4, big, 2 * big):
            rows.append(rng.standard_normal(n) * spread)
    for offset in (1e4, -3e5, 1e15, float(fi.max) / 2):
        rows.append(offset + rng.standard_normal(9) * 3)
    # Outputs near and below the smallest normal number.
    tiny = -float(np.log(fi.smallest_subnormal))  # 744 or 103
    rows.append(np.array([0.0, -tiny * 0.95, -tiny * 0.99, -tiny * 1.001, -tiny + 1]))
    rows.append(np.array([float(fi.max), float(-fi.max), float(fi.max) * 0.75]))
    rows.append(np.array([float(fi.tiny), -float(fi.tiny), float(fi.smallest_subnormal)]))
    return [r.astype(dtype) for r in rows]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_accuracy(dtype):
    rng = np.random.default_rng(11)
    worst = {"softmax": 0.0, "log_softmax": 0.0}
    for row in sample_rows(dtype, rng):
        s, ls = mp_softmax_row(row)
        for name, exact in (("softmax", s), ("log_softmax", ls)):
            errors = ulp_errors(getattr(ag, name)(row), exact, dtype)
            worst[name] = max(worst[name], errors.max())
            assert errors.max() <= BY_NAME[name].tolerance_ulp[""], (name, row, errors)
    print(dtype.__name__, "max ulp error", worst)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_accuracy(dtype):
    rng = np.random.default_rng(12)
    eps = float(np.finfo(dtype).eps)
    tiny = mp.mpf(float(np.finfo(dtype).smallest_subnormal))
    for row in sample_rows(dtype, rng):
        g = (rng.standard_normal(row.shape) * rng.choice([1e-3, 1.0, 1e3])).astype(dtype)
        s, _ = mp_softmax_row(row)
        gm = [mp.mpf(float(v)) for v in g]
        dot = mp.fsum(a * b for a, b in zip(gm, s))
        gsum = mp.fsum(gm)
        abs_dot = mp.fsum(abs(a) * b for a, b in zip(gm, s))
        abs_sum = mp.fsum(abs(a) for a in gm)
        # s_j is rounded to dtype on the way: where it is subnormal its
        # absolute error, the subnormal spacing `tiny`, carries over.
        cases = {
            "softmax": ([sj * (gj - dot) for sj, gj in zip(s, gm)],
                        [(sj + tiny / eps) * (abs(gj) + abs_dot) for sj, gj in zip(s, gm)]),
            "log_softmax": ([gj - sj * gsum for sj, gj in zip(s, gm)],
                            [abs(gj) + (sj + tiny / eps) * abs_sum for sj, gj in zip(s, gm)]),
        }
        for name, (exact, scale) in cases.items():
            got = getattr(ag, name + "_backward")(g, row)
            bound = BY_NAME[name].tolerance_ulp["_backward"]
            for v, e, sc in zip(got, exact, scale):
                err = abs(mp.mpf(float(v)) - e)
                assert err <= bound * ulp(e, dtype) + 4 * eps * sc, (name, row, g, v, e)


finite64 = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(st.lists(finite64, min_size=1, max_size=12))
def test_softmax_accuracy_on_any_finite_row(values):
    row = np.array(values)
    s, ls = mp_softmax_row(row)
    assert ulp_errors(ag.softmax(row), s, np.float64).max() <= 4
    assert ulp_errors(ag.log_softmax(row), ls, np.float64).max() <= 4


def glu_pairs(dtype, rng):
    """(a, b) over the whole range: b near 0, moderate, and in both tails up
    to where exp(b) underflows; a from tiny to huge."""
    fi = np.finfo(dtype)
    tail = -float(np.log(fi.smallest_subnormal))
    b = np.concatenate([
        rng.uniform(-3, 3, 40), rng.uniform(-40, 40, 40),
        rng.uniform(0.5, 1.0, 40) * tail * rng.choice([-1, 1], 40),
        np.geomspace(1e-30, tail, 40) * rng.choice([-1, 1], 40),
        [0.0, -0.0, float(np.log(fi.tiny)), float(np.log(fi.tiny)) - 1, tail * 0.999, -tail * 0.999],
    ])
    logmax = np.log10(float(fi.max))
    a = rng.choice([-1, 1], b.size) * 10 ** rng.uniform(-logmax / 2, logmax / 2, b.size)
    a[:5] = [1.0, -1.0, float(fi.max), float(fi.tiny), 3.0]
    return a.astype(dtype), b.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_glu_accuracy(dtype):
    rng = np.random.default_rng(13)
    a, b = glu_pairs(dtype, rng)
    g = (rng.standard_normal(a.size) * 10).astype(dtype)
    x = np.concatenate([a, b])
    sig = [1 / (1 + mp.exp(-mp.mpf(float(v)))) for v in b]
    am = [mp.mpf(float(v)) for v in a]
    gm = [mp.mpf(float(v)) for v in g]
    f_exact = [ai * si for ai, si in zip(am, sig)]
    ga_exact = [gi * si for gi, si in zip(gm, sig)]
    gb_exact = [gi * ai * si * (1 - si) if float(bi) <= 0 else
                gi * ai * si * (mp.exp(-mp.mpf(float(bi))) * si)
                for gi, ai, si, bi in zip(gm, am, sig, b)]
    tol = BY_NAME["glu"].tolerance_ulp
    f_err = ulp_errors(ag.glu(x), f_exact, dtype)
    back = ag.glu_backward(g, x)
    ga_err = ulp_errors(back[: a.size], ga_exact, dtype)
    gb_err = ulp_errors(back[a.size:], gb_exact, dtype)
    print(dtype.__name__, "glu max ulp", f_err.max(), ga_err.max(), gb_err.max())
    assert f_err.max() <= tol[""]
    assert max(ga_err.max(), gb_err.max()) <= tol["_backward"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_grad_weight_accuracy(dtype):
    rng = np.random.default_rng(14)
    eps = float(np.finfo(dtype).eps)
    x = (rng.standard_normal((50, 3, 41)) * 10.0 ** rng.integers(-3, 4, (50, 3, 41))).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    w = np.array([0.1, -0.2, 0.3], dtype)
    grad_input, grad_weight = ag.prelu_backward(g, x, w)
    np.testing.assert_array_equal(grad_input, np.where(x > 0, g, g * w[:, None]))
    for c in range(3):
        terms = [mp.mpf(float(gi)) * mp.mpf(float(xi))
                 for gi, xi in zip(g[:, c].ravel(), x[:, c].ravel()) if xi < 0]
        exact = mp.fsum(terms)
        scale = mp.fsum(abs(t) for t in terms)
        assert abs(mp.mpf(float(grad_weight[c])) - exact) <= 4 * ulp(exact, dtype) + eps * scale


# --------------------------------------------------------------------------
# Edge rows: masked, +inf, NaN, extremes


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_fully_masked_rows(dtype):
    x = np.array([[-np.inf] * 4, [0.0, 1.0, 2.0, 3.0]], dtype)
    g = np.array([[np.inf, np.nan, 1.0, -2.0], [1.0, 1.0, 1.0, 1.0]], dtype)
    np.testing.assert_array_equal(ag.softmax(x)[0], 0)
    np.testing.assert_array_equal(ag.log_softmax(x)[0], -np.inf)
    np.testing.assert_array_equal(ag.softmax_backward(g, x)[0], 0)
    np.testing.assert_array_equal(ag.log_softmax_backward(g, x)[0], 0)
    # The unmasked row is untouched by its neighbour.
    np.testing.assert_array_equal(ag.softmax(x)[1], ag.softmax(x[1]))


def test_partly_masked_rows():
    x = np.array([2.0, -np.inf, 2.0, -np.inf])
    g = np.array([1.0, np.nan, 3.0, np.inf])
    np.testing.assert_array_equal(ag.softmax(x), [0.5, 0, 0.5, 0])
    np.testing.assert_array_equal(ag.log_softmax(x), [-np.log(2), -np.inf, -np.log(2), -np.inf])
    # softmax: 0 where s is 0, whatever g; the NaN and inf there are ignored.
    np.testing.assert_array_equal(ag.softmax_backward(g, x), [-0.5, 0, 0.5, 0])
    # log_softmax: g - s * sum(g), and sum(g) holds the NaN: NaN where s > 0,
    # g where s is 0.
    np.testing.assert_array_equal(ag.log_softmax_backward(g, x), [np.nan, np.nan, np.nan, np.inf])
    g = np.array([1.0, 5.0, 3.0, -2.0])  # sum 7
    np.testing.assert_array_equal(ag.log_softmax_backward(g, x), [-2.5, 5.0, -0.5, -2.0])


def test_positive_infinity_shares_the_row():
    x = np.array([[np.inf, 1.0, np.inf, -np.inf], [np.inf, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(ag.softmax(x), [[0.5, 0, 0.5, 0], [1, 0, 0, 0]])
    np.testing.assert_array_equal(ag.log_softmax(x),
                                  [[-np.log(2), -np.inf, -np.log(2), -np.inf], [0, -np.inf, -np.inf, -np.inf]])
    g = np.array([[1.0, 7.0, 3.0, 9.0], [4.0, 1.0, 1.0, 1.0]])
    # The backward formulas at the limit s: s * (g - sum(g*s)), g - s * sum(g).
    np.testing.assert_array_equal(ag.softmax_backward(g, x), [[-0.5, 0, 0.5, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(ag.log_softmax_backward(g, x), [[-9, 7, -7, 9], [-3, 1, 1, 1]])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmax_backward", "log_softmax_backward"])
def test_nan_in_x_gives_a_nan_row(name):
    x = np.array([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0], [np.nan, -np.inf, np.inf]])
    f = getattr(ag, name)
    r = f(np.ones_like(x), x) if name.endswith("backward") else f(x)
    assert np.isnan(r[0]).all() and np.isnan(r[2]).all()
    assert not np.isnan(r[1]).any()


def test_extreme_finite_rows():
    big = np.finfo(np.float64).max
    np.testing.assert_array_equal(ag.softmax(np.array([big, -big])), [1, 0])
    np.testing.assert_array_equal(ag.softmax(np.array([big, big])), [0.5, 0.5])
    np.testing.assert_array_equal(ag.log_softmax(np.array([big, -big])), [0, -np.inf])
    np.testing.assert_array_equal(ag.softmax_backward(np.array([1.0, 2.0]), np.array([big, -big])), [0, 0])
    # A single element: softmax 1, log_softmax 0, gradients 0.
    np.testing.assert_array_equal(ag.softmax(np.array([[-5.0], [np.inf]])), [[1], [1]])
    np.testing.assert_array_equal(ag.log_softmax(np.array([-5.0])), [0])
    np.testing.assert_array_equal(ag.softmax_backward(np.array([3.0]), np.array([-5.0])), [0])
    np.testing.assert_array_equal(ag.log_softmax_backward(np.array([3.0]), np.array([-5.0])), [0])
    # The shift is exact: softmax(x + c) == softmax(x) when x + c is exact.
    x = np.array([0.5, -1.25, 3.0, 2.0])
    np.testing.assert_array_equal(ag.softmax(x + 2.0**40), ag.softmax(x))


def test_glu_edges():
    inf, nan = np.inf, np.nan
    a = np.array([inf, -inf, inf, 0.0, nan, 2.0, 1e300, 3.0])
    b = np.array([-800.0, 3.0, -inf, nan, 0.0, inf, -745.0, -inf])
    x = np.concatenate([a, b])
    # 1e300 * sigmoid(-745): not 1e300 * np.exp(-745.0), whose subnormal
    # factor has one significant bit.
    tail = float(mp.mpf(1e300) / (1 + mp.exp(745)))
    y = ag.glu(x)
    np.testing.assert_array_equal(y[[0, 1, 2, 3, 4, 5, 7]], [inf, -inf, nan, nan, nan, 2.0, 0.0])
    np.testing.assert_array_max_ulp(y[6], tail, maxulp=4)
    g = np.array([1.0, 1.0, 1.0, 1.0, 1.0, inf, 1.0, nan])
    grad = ag.glu_backward(g, x)
    ga, gb = grad[:8], grad[8:]
    # d/da = sigmoid(b): 0 at b = -inf whatever g; NaN when a or b is NaN.
    assert ga[2] == 0 and ga[7] == 0 and np.isnan(ga[3]) and np.isnan(ga[4])
    assert ga[5] == inf and ga[0] == 0 and ga[6] == 5e-324  # sigmoid(-800) underflows
    # d/db = a * sigmoid'(b): 0 at b = +-inf and at a = 0 whatever g.
    assert gb[5] == 0 and gb[7] == 0 and gb[2] == 0
    assert np.isnan(gb[3]) and np.isnan(gb[4])
    assert gb[0] == inf and gb[1] == -inf


def test_prelu_edges():
    x = np.array([[-2.0, 0.0, -0.0, np.nan, np.inf, -np.inf]]).T  # 6 x 1: one channel
    w = np.array([0.25])
    np.testing.assert_array_equal(ag.prelu(x, w).ravel(), [-0.5, 0, -0.0, np.nan, np.inf, -np.inf])
    assert np.signbit(ag.prelu(x, w)[2, 0])
    # d/dx at the kink is w, as in PyTorch.
    np.testing.assert_array_equal(ag.prelu_grad(x, w).ravel(), [0.25, 0.25, 0.25, np.nan, 1, 0.25])
    # A zero weight makes x <= 0 flat: grad_input 0 whatever g; grad_weight
    # ignores g where x >= 0.
    g = np.array([[np.inf, np.nan, 1.0, 1.0, np.nan, 1.0]]).T
    gi, gw = ag.prelu_backward(g, x, np.array([0.0]))
    np.testing.assert_array_equal(gi.ravel(), [0, 0, 0, np.nan, np.nan, 0])
    assert np.isnan(gw[0])  # x has a NaN
    gi, gw = ag.prelu_backward(g[[1, 4]], x[[1, 4]], np.array([0.0]))
    np.testing.assert_array_equal(gw, [0])


def test_sums_reaching_infinity_are_infinite():
    # A sum with one infinite term is that infinity (the compensation of a
    # compensated sum is NaN there and must not leak into the result).
    x = np.array([[-2.0, -np.inf, 3.0, -1.0] * 40]).T  # 160 x 1: one channel
    g = np.ones_like(x)
    # by hand: sum of x over x < 0 is -inf
    assert ag.prelu_backward(g, x, np.array([0.5]))[1][0] == -np.inf
    assert ag.prelu_backward(g, x, 0.5)[1] == -np.inf
    # log_softmax backward: g - s * sum(g) with sum(g) = inf gives
    # inf - s*inf = NaN where g is inf, 1 - s*inf = -inf elsewhere.
    xs = np.zeros(70)
    gs = np.ones(70)
    gs[5] = np.inf
    want = np.full(70, -np.inf)
    want[5] = np.nan
    np.testing.assert_array_equal(ag.log_softmax_backward(gs, xs), want)


@pytest.mark.parametrize(("x_shape", "w_shape"), [
    ((5,), (1,)), ((), ()), ((4, 3), (3,)), ((4, 3), (1,)), ((2, 3, 4, 5), (3,)),
    ((2, 3, 4, 5), ()), ((2, 1, 4), (1,)), ((0, 3, 2), (3,)), ((2, 0), (1,)),
])
def test_prelu_weight_shapes(x_shape, w_shape):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(x_shape)
    w = rng.uniform(0, 0.5, w_shape)
    g = rng.standard_normal(x_shape)
    wb = w.reshape((-1,) + (1,) * (len(x_shape) - 2)) if w.size > 1 else w.reshape(())
    np.testing.assert_array_equal(ag.prelu(x, w), np.where(x > 0, x, x * wb))
    gi, gw = ag.prelu_backward(g, x, w)
    assert gi.shape == x.shape and gw.shape == w.shape
    np.testing.assert_array_equal(gi, np.where(x > 0, g, g * wb))
    per_element = np.where(x > 0, 0.0, g * x)
    axes = tuple(i for i in range(x.ndim) if not (w.size > 1 and i == 1))
    np.testing.assert_allclose(gw, per_element.sum(axis=axes).reshape(w.shape), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("x_shape", "w_shape"), [((5,), (5,)), ((4, 3), (2,)), ((4, 3), (3, 1)), ((4, 3), (0,))])
def test_prelu_bad_weight(x_shape, w_shape):
    for f in (ag.prelu, ag.prelu_grad):
        with pytest.raises(ValueError, match="prelu.*weight"):
            f(np.ones(x_shape), np.ones(w_shape))
    with pytest.raises(ValueError, match="prelu_backward.*weight"):
        ag.prelu_backward(np.ones(x_shape), np.ones(x_shape), np.ones(w_shape))


def test_prelu_strides_and_scalar_weight():
    rng = np.random.default_rng(6)
    base = rng.standard_normal((3, 4, 6, 10)).astype(np.float32)
    x = base.transpose(0, 1, 3, 2)[:, :, ::-2, :]  # spatial axes cannot merge: copied
    g = rng.standard_normal(x.shape).astype(np.float32)
    w = rng.uniform(0, 1, 4).astype(np.float32)
    gi, gw = ag.prelu_backward(g, x, w)
    gi_c, gw_c = ag.prelu_backward(np.ascontiguousarray(g), np.ascontiguousarray(x), w)
    np.testing.assert_array_equal(gi, gi_c)
    np.testing.assert_allclose(gw, gw_c, rtol=1e-6)
    # A Python float weight does not promote float32 (NEP 50 weak scalar).
    assert ag.prelu(x, 0.25).dtype == np.float32
    assert ag.prelu_grad(x, 0.25).dtype == np.float32
    gi, gw = ag.prelu_backward(g, x, 0.25)
    assert gi.dtype == np.float32 and gw.shape == ()
    # A 1-D grad_output broadcasts against x.
    gi, _ = ag.prelu_backward(np.float32(2.0), x, w)
    np.testing.assert_array_equal(gi, np.where(x > 0, 2, 2 * w[:, None, None]))
    with pytest.raises(ValueError, match="grad_output"):
        ag.prelu_backward(np.ones(7), x, w)


# --------------------------------------------------------------------------
# Shapes, axes, out=


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "glu"])
def test_axis_errors(name):
    f, b = getattr(ag, name), getattr(ag, name + "_backward")
    with pytest.raises(np.exceptions.AxisError, match=name):
        f(np.ones((2, 4)), axis=2)
    with pytest.raises(np.exceptions.AxisError, match=name):
        f(np.ones((2, 4)), axis=-3)
    with pytest.raises(np.exceptions.AxisError, match=name + "_backward"):
        b(np.ones((2, 4)), np.ones((2, 4)), axis=5)
    # 0-d input has no axis, as for np.sum(x, axis=-1): AxisError, a ValueError.
    with pytest.raises(ValueError, match=name):
        f(np.float64(3.0))
    with pytest.raises(TypeError):
        f(np.ones(4), axis=1.0)
    with pytest.raises(TypeError):
        f(np.ones(4), axis=-1.0)  # not taken for the default axis either


def test_glu_odd_axis():
    with pytest.raises(ValueError, match="even length"):
        ag.glu(np.ones((2, 5)))
    with pytest.raises(ValueError, match="even length"):
        ag.glu(np.ones((3, 4)), axis=0)
    with pytest.raises(ValueError, match="even length"):
        ag.glu_backward(np.ones((2, 2)), np.ones((2, 5)))
    # grad_output must have the half length.
    with pytest.raises(ValueError):
        ag.glu_backward(np.ones((2, 3)), np.ones((2, 4)))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "glu"])
def test_empty_arrays(name):
    act = BY_NAME[name]
    f, b = getattr(ag, name), getattr(ag, name + "_backward")
    for shape in [(3, 0), (0, 4), (0,), (2, 0, 4)]:
        x = np.zeros(shape)
        r = f(x)
        half = shape[:-1] + (shape[-1] // 2,) if act.convention == "halves" else shape
        assert r.shape == half
        assert b(np.zeros(half), x).shape == shape


@pytest.mark.parametrize(("act", "form"), [f for f in FORMS if f[0].convention != "channel"],
                         ids=[i for f, i in zip(FORMS, FORM_IDS) if f[0].convention != "channel"])
@pytest.mark.parametrize("axis", [0, 1])
def test_out(act, form, axis):
    rng = np.random.default_rng(8)
    args, kwargs = make_args(act, form, rng, shape=(4, 6), axis=axis)
    want = call(act, form, args, kwargs)
    out = np.full_like(want, 7.0)
    assert call(act, form, args, dict(kwargs, out=out)) is out
    np.testing.assert_array_equal(out, want)
    out = np.zeros_like(want)
    assert call(act, form, args, dict(kwargs, out=(out,))) is out
    np.testing.assert_array_equal(out, want)
    # A non-contiguous out.
    big = np.zeros(want.shape + (2,))
    call(act, form, args, dict(kwargs, out=big[..., 1]))
    np.testing.assert_array_equal(big[..., 1], want)
    assert not big[..., 0].any()
    # A float32 out takes the float64 result (same_kind); an integer one does not.
    out32 = np.zeros(want.shape, np.float32)
    call(act, form, args, dict(kwargs, out=out32))
    np.testing.assert_array_equal(out32, want.astype(np.float32))
    with pytest.raises(TypeError):
        call(act, form, args, dict(kwargs, out=np.zeros(want.shape, np.int64)))
    with pytest.raises(ValueError):
        call(act, form, args, dict(kwargs, out=np.zeros(want.shape[:-1] + (want.shape[-1] + 2,))))
    with pytest.raises(ValueError):
        call(act, form, args, dict(kwargs, out=np.zeros((want.shape[0] + 1,) + want.shape[1:])))
    # An out with more leading axes takes the result broadcast, as for any ufunc.
    out = np.zeros((2,) + want.shape)
    call(act, form, args, dict(kwargs, out=out))
    np.testing.assert_array_equal(out, np.broadcast_to(want, out.shape))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_in_place(name, axis):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 4, 5))
    want = getattr(ag, name)(x, axis=axis)
    y = x.copy()
    assert getattr(ag, name)(y, axis=axis, out=y) is y
    np.testing.assert_array_equal(y, want)
    g = rng.standard_normal(x.shape)
    want = getattr(ag, name + "_backward")(g, x, axis=axis)
    getattr(ag, name + "_backward")(g, x, axis=axis, out=g)
    np.testing.assert_array_equal(g, want)


def test_glu_backward_in_place():
    rng = np.random.default_rng(16)
    x = rng.standard_normal((3, 8))
    g = rng.standard_normal((3, 4))
    want = ag.glu_backward(g, x)
    assert ag.glu_backward(g, x, out=x) is x
    np.testing.assert_array_equal(x, want)


@pytest.mark.parametrize("name", ["softmax_backward", "log_softmax_backward", "glu_backward"])
def test_mixed_dtypes_promote(name):
    rng = np.random.default_rng(17)
    x = rng.standard_normal((2, 6))
    g = rng.standard_normal((2, 3 if name == "glu_backward" else 6))
    f = getattr(ag, name)
    for gt, xt in [(np.float16, np.float32), (np.float32, np.float16), (np.int8, np.float16),
                   (np.float32, np.float64), (np.int64, np.float32), (np.float16, np.longdouble)]:
        r = f(g.astype(gt), x.astype(xt))
        assert r.dtype == np.result_type(gt, xt)
        # The same as the ufunc's own allocation (a broadcast g skips ours).
        np.testing.assert_array_equal(r, f(g.astype(gt)[None], x.astype(xt))[0])


def test_inputs_are_not_modified():
    rng = np.random.default_rng(10)
    for act, form in FORMS:
        args, kwargs = make_args(act, form, rng)
        copies = [a.copy() for a in args]
        call(act, form, args, kwargs)
        for a, c in zip(args, copies):
            np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_backward_broadcasts_and_keeps_layout(name):
    rng = np.random.default_rng(15)
    x = rng.standard_normal((3, 4))
    g = rng.standard_normal(4)
    b = getattr(ag, name + "_backward")
    np.testing.assert_array_equal(b(g, x), b(np.broadcast_to(g, x.shape).copy(), x))
    np.testing.assert_array_equal(b(g, x, axis=1), b(g, x, axis=-1))
    # The result is laid out like x, whichever the axis.
    assert getattr(ag, name)(x, axis=0).flags.c_contiguous
    assert getattr(ag, name)(np.asfortranarray(x), axis=1).flags.f_contiguous
    assert b(x, x, axis=0).flags.c_contiguous


def test_lists_and_keywords():
    np.testing.assert_array_equal(ag.softmax([1.0, 1.0]), [0.5, 0.5])
    np.testing.assert_array_equal(ag.glu([[2.0, 0.0]]), [[1.0]])
    np.testing.assert_array_equal(ag.prelu([-1.0, 2.0], [0.5]), [-0.5, 2.0])
    assert ag.softmax(np.ones(3), dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(ag.ufuncs.softmax(np.ones((2, 3)), axes=[(0,), (0,)]), 0.5)


def test_no_warnings_for_any_row():
    inf, nan = np.inf, np.nan
    x = np.array([[inf, -inf, nan, 0.0], [inf, inf, 1.0, -inf], [-inf] * 4,
                  [1e308, -1e308, 5e-324, 0.0]])
    g = np.array([[inf, nan, -inf, 1.0]] * 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("softmax", "log_softmax", "glu"):
            getattr(ag, name)(x)
            getattr(ag, name + "_backward")(g if name != "glu" else g[:, :2], x)
        ag.prelu(x, 0.5)
        ag.prelu_backward(g, x, np.array(0.5))
