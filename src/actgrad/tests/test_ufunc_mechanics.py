"""Ufunc mechanics, tested the way NumPy tests its own ufuncs (numpy/_core/tests/
test_umath.py): strides, out=, where=, aliasing, 0-d, empty, broadcasting,
inputs left alone, pickling."""

import pickle

import numpy as np
import pytest

import actgrad as ag

from actgrad._table import AXIS_ACTIVATIONS

from .conftest import (
    CASE_FORM_PARAMS,
    CASES,
    FORMS,
    FORMS_BY_KIND,
    PUBLIC_NAMES,
    _param_sets,
    assert_identical,
    assert_values,
    call_form,
    cast,
    dtype_id,
    grid,
    hand_reference,
    hand_ulp,
    specials,
)

STRIDES = (1, 2, 3, 4, -1, -2, -3, -4)
SIZES = (*range(2, 101), 255, 256, 257, 511, 513, 1000)
MECH_DTYPES = [pytest.param(dt, id=dtype_id(dt))
               for dt in (np.float16, np.float32, np.float64, np.longdouble, np.int8, np.int64)]


def _values(case, dtype, n, seed=0):
    """n input values of dtype: kinks, edges and random points (NaN included)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        rng = np.random.default_rng(seed)
        info = np.iinfo(dtype)
        base = np.concatenate([[info.min, info.max, 0, 6, -1, 1, 7],
                               rng.integers(-10, 10, 64)]).astype(dtype)
    else:
        base = np.concatenate([specials(dtype), grid(case, dtype, n_random=40, seed=seed)])
        base = np.random.default_rng(seed).permutation(base)
    return cast(np.resize(base, n), dtype)


def _strided_view(values, stride):
    """A copy of `values` as a view with the given element stride (negative: reversed)."""
    buf = np.full(values.size * abs(stride), 99, dtype=values.dtype)
    view = buf[::stride]
    view[...] = values
    assert view.strides[0] == stride * values.itemsize
    return view


@pytest.mark.parametrize("dtype", MECH_DTYPES)
@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_strides_match_contiguous(case, form, dtype):
    """Every input/output stride pairing at sizes 2..100 and around the 256
    block boundary gives the contiguous result, bit for bit."""
    nmax = max(SIZES)
    xs = _values(case, dtype, nmax, seed=1)
    gs = _values(case, dtype, nmax, seed=2)
    for n in SIZES:
        x, g = xs[:n], gs[:n]
        expected = call_form(case, form, x.copy(), g.copy())
        for i, s in enumerate(STRIDES):
            s_out = STRIDES[(i + n) % len(STRIDES)]
            s_g = STRIDES[(i + 2 * n + 3) % len(STRIDES)]
            xv = _strided_view(x, s)
            gv = _strided_view(g, s_g)
            out = _strided_view(np.zeros(n, expected.dtype), s_out)
            result = call_form(case, form, xv, gv, out=out)
            assert result is out
            if not np.array_equal(out, expected, equal_nan=True) or not (
                np.signbit(out) == np.signbit(expected)
            ).all():
                assert_identical(out, expected, inputs={"x": x})  # reports the points
            # and without out=
            r = call_form(case, form, xv, gv)
            assert np.array_equal(r, expected, equal_nan=True), (n, s)


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_multidimensional_non_contiguous(case, form):
    base = _values(case, np.float64, 24 * 30).reshape(24, 30)
    gbase = _values(case, np.float64, 24 * 30, seed=5).reshape(24, 30)
    for view in (np.s_[::2, ::3], np.s_[::-3, 1::2], np.s_[5:, ::-1]):
        for transform in (lambda a: a, lambda a: a.T, np.asfortranarray):
            x, g = transform(base[view]), transform(gbase[view])
            expected = call_form(case, form, np.ascontiguousarray(x), np.ascontiguousarray(g))
            assert_identical(call_form(case, form, x, g), expected)


# --------------------------------------------------------------------------
# out=, where=, in place, aliasing
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_out_argument(case, form):
    x = _values(case, np.float64, 50)
    g = _values(case, np.float64, 50, seed=3)
    expected = call_form(case, form, x, g)
    out = np.empty_like(x)
    assert call_form(case, form, x, g, out=out) is out
    assert_identical(out, expected)
    out2 = np.empty_like(x)
    assert call_form(case, form, x, g, out=(out2,)) is out2
    assert_identical(out2, expected)
    # out larger than the inputs: the inputs broadcast into it
    big = np.empty((3, 50))
    call_form(case, form, x, g, out=big)
    assert_identical(big, np.broadcast_to(expected, (3, 50)))
    with pytest.raises(ValueError):
        call_form(case, form, x, g, out=np.empty(49))
    with pytest.raises(TypeError):  # an output that cannot hold floats
        call_form(case, form, x, g, out=np.empty(50, dtype=np.int64))


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_where_argument(case, form):
    x = _values(case, np.float64, 300)
    g = _values(case, np.float64, 300, seed=3)
    expected = call_form(case, form, x, g)
    mask = np.random.default_rng(0).random(300) < 0.5
    out = np.full(300, -12345.0)
    call_form(case, form, x, g, out=out, where=mask)
    assert_identical(out[mask], expected[mask])
    assert (out[~mask] == -12345.0).all()
    # a broadcast mask and a scalar where
    out = np.full((2, 300), -1.0)
    call_form(case, form, x, g, out=out, where=np.array([[True], [False]]))
    assert_identical(out[0], expected)
    assert (out[1] == -1.0).all()
    out = np.full(300, 7.0)
    call_form(case, form, x, g, out=out, where=False)
    assert (out == 7.0).all()
    # without out=, the selected elements are computed
    r = call_form(case, form, x, g, where=mask, out=None)
    assert_identical(r[mask], expected[mask])


@pytest.mark.parametrize("dtype", [pytest.param(d, id=dtype_id(d)) for d in (np.float32, np.float64)])
@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_in_place(case, form, dtype):
    x = _values(case, dtype, 333)
    g = _values(case, dtype, 333, seed=4)
    expected = call_form(case, form, x.copy(), g.copy())
    xi = x.copy()
    assert call_form(case, form, xi, g.copy(), out=xi) is xi  # out=x
    assert_identical(xi, expected)
    if form.kind == "backward":
        gi = g.copy()
        assert case(form, gi, x.copy(), out=gi) is gi  # out=grad_output
        assert_identical(gi, expected)
        same = x.copy()  # grad_output, x and out all one array
        assert case(form, same, same, out=same) is same
        assert_identical(same, case(form, x.copy(), x.copy()))
    # strided in place
    xs = x.copy()
    call_form(case, form, xs[::2], g[::2].copy(), out=xs[::2])
    assert_identical(xs[::2], expected[::2])
    assert_identical(xs[1::2], x[1::2])


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_overlapping_input_and_output(case, form):
    # NumPy makes partially overlapping operands behave as if copied first.
    base = _values(case, np.float64, 400)
    g = _values(case, np.float64, 399, seed=6)
    views = (
        (lambda b: b[1:], lambda b: b[:-1]),
        (lambda b: b[:-1], lambda b: b[1:]),
        (lambda b: b[::-1][1:], lambda b: b[1:]),
        (lambda b: b[::-1][:-1], lambda b: b[:-1]),
    )
    for src, dst in views:
        buf = base.copy()
        x = src(buf)
        expected = call_form(case, form, x.copy(), g)
        call_form(case, form, x, g, out=dst(buf))
        assert_identical(dst(buf), expected)


# --------------------------------------------------------------------------
# Shapes: 0-d, Python scalars, empty, broadcasting
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_zero_dim_arrays_and_python_scalars(case, form):
    for v in (-2.5, -0.0, 0.0, 0.75, 3.0, 7.0, np.inf, -np.inf, np.nan, *case.kinks()):
        expected = hand_reference(case, form, np.array([v]), np.array([1.5]))[0]
        for x in (v, np.float64(v), np.array(v)):
            r = call_form(case, form, x, 1.5)
            # like np.exp: a NumPy scalar, not a 0-d array
            assert type(r) is np.float64, (x, type(r))
            assert_values(np.array([r]), np.array([expected]), inputs={"x": np.array([v])},
                          ulp=hand_ulp(case, form, np.float64))
        out = np.array(123.0)
        assert call_form(case, form, np.array(v), np.array(1.5), out=out) is out
        assert_values(out[None], np.array([expected]), ulp=hand_ulp(case, form, np.float64))
    # float32 0-d keeps float32
    assert call_form(case, form, np.array(1.0, np.float32), np.array(1.0, np.float32)).dtype == np.float32
    # A Python int or bool
    r = call_form(case, form, 3, 1)
    if form.kind == "f" and case.act.keeps_integers:
        assert type(r) is np.int64 and r == 3  # hand-derived: relu(3) = relu6(3) = 3
        assert type(call_form(case, form, True, True)) is np.bool_
    else:
        assert type(r) is np.float64
        assert_values(np.array([r]), hand_reference(case, form, np.array([3.0]), np.array([1.0])),
                      ulp=hand_ulp(case, form, np.float64))
    # a Python list
    r = call_form(case, form, [-1.0, 2.0], [1.0, 1.0])
    assert isinstance(r, np.ndarray) and r.shape == (2,)


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4, 2)], ids=str)
@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_empty_arrays(case, form, shape):
    for dt in (np.float16, np.float32, np.float64, np.longdouble, np.int32):
        x = np.empty(shape, dt)
        r = call_form(case, form, x, np.empty(shape, dt))
        assert r.shape == shape
        expected_dt = dt if (np.dtype(dt).kind == "f" or (form.kind == "f" and case.act.keeps_integers)) else np.float64
        assert r.dtype == expected_dt
        out = np.empty(shape, expected_dt)
        assert call_form(case, form, x, np.empty(shape, dt), out=out) is out


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_broadcasting_of_arrays(case, form):
    x = _values(case, np.float64, 7)
    g = _values(case, np.float64, 5, seed=8)
    if form.kind == "backward":
        r = case(form, g[:, None], x[None, :])
        assert r.shape == (5, 7)
        for i in range(5):
            for j in range(7):
                assert_identical(r[i, j: j + 1], case(form, g[i: i + 1], x[j: j + 1]))
        # a scalar grad_output
        assert_identical(case(form, 2.0, x), case(form, np.full(7, 2.0), x))
    else:
        x2 = np.stack([x, x[::-1]])[:, None, :]  # (2, 1, 7)
        r = case(form, np.broadcast_to(x2, (2, 3, 7)))
        assert r.shape == (2, 3, 7)
        assert_identical(r[1, 2], case(form, x[::-1].copy()))
    with pytest.raises(ValueError):  # shapes that do not broadcast
        if form.kind == "backward":
            case(form, np.ones(3), np.ones(4))
        else:
            case(form, np.ones(3), out=np.empty(4))


def _first_case(act):
    return next(c for c in CASES if c.act is act)


def _param_rows(act):
    """Every parameter set the tests know for this activation, as arrays: the
    numeric parameters that the first case's ufunc takes (for an activation
    with a selector, of the parameter sets that select the same ufunc)."""
    variant = _first_case(act).variant
    sets = [s for s in _param_sets(act)
            if act.variant_for({**act.default_params(), **s}) == variant]
    return {n: np.array([s.get(n, act.default_params().get(n)) for s in sets], dtype=np.float64)
            for n in variant.params}


def _raw(act, form):
    """The raw ufunc of the first case's variant."""
    return _first_case(act).raw_ufunc(form)


PARAMETERISED_ACTS = [pytest.param(c.act, id=c.name) for c in CASES
                      if c.raw_params() and c is _first_case(c.act)]
FORM_IDS = [pytest.param(f, id=f.kind) for f in FORMS]


def _check_rows(act, form, call, layout):
    """call(arrays, params) with each parameter an array of k rows, shaped
    (k, 1) against x of shape (40,), gives row i = the scalar-parameter call."""
    case = _first_case(act)
    rows = _param_rows(act)
    k = len(next(iter(rows.values())))
    x = _values(case, np.float64, 40)
    g = _values(case, np.float64, 40, seed=9)
    arrays = (g, x) if form.kind == "backward" else (x,)
    if layout == "column":
        params = {n: v[:, None] for n, v in rows.items()}
    elif layout == "strided":
        params = {n: np.repeat(v, 3)[::3][:, None] for n, v in rows.items()}
    elif layout == "float32":
        params = {n: v.astype(np.float32)[:, None] for n, v in rows.items()}
    elif layout == "int":
        rows = {n: np.round(v) for n, v in rows.items()}
        positive = [p.name for p in act.params if p.domain == "positive" and p.name in rows]
        keep = np.all([rows[n] > 0 for n in positive], axis=0) if positive else slice(None)
        rows = {n: v[keep] for n, v in rows.items()}
        k = len(next(iter(rows.values())))
        params = {n: v.astype(np.int64)[:, None] for n, v in rows.items()}
    else:
        params = {n: [[float(e)] for e in v] for n, v in rows.items()}
    r = call(arrays, params)
    assert r.shape == (k, 40)
    fn = getattr(ag, act.function_name(form))
    for i in range(k):
        scalar = {n: float(np.float32(v[i]) if layout == "float32" else v[i])
                  for n, v in rows.items()}
        assert_identical(r[i], fn(*arrays, **scalar))


@pytest.mark.parametrize("layout", ["column", "strided", "float32", "int"])
@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize("act", PARAMETERISED_ACTS)
def test_raw_ufunc_takes_parameter_arrays(act, form, layout):
    raw = _raw(act, form)
    names = _first_case(act).variant.params
    _check_rows(act, form, lambda arrays, params: raw(*arrays, *(params[n] for n in names)),
                layout)


@pytest.mark.parametrize("layout", ["column", "strided", "float32", "int"])
@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize("act", PARAMETERISED_ACTS)
def test_wrapper_broadcasts_array_parameters_against_x(act, form, layout):
    fn = getattr(ag, act.function_name(form))
    _check_rows(act, form, lambda arrays, params: fn(*arrays, **params), layout)


@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize("act", PARAMETERISED_ACTS)
def test_wrapper_accepts_nested_list_parameters(act, form):
    # The docstrings say "float or array_like": a list is array_like.
    fn = getattr(ag, act.function_name(form))
    _check_rows(act, form, lambda arrays, params: fn(*arrays, **params), "list")


@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize("act", PARAMETERISED_ACTS)
def test_long_varying_parameter_arrays_through_the_raw_ufunc(act, form):
    # Parameter arrays longer than a block, strided and reversed: each element
    # is paired with its own parameters.
    case = _first_case(act)
    rows = _param_rows(act)
    k = len(next(iter(rows.values())))
    n = 1000
    pick = np.random.default_rng(11).integers(0, k, n)
    x = _values(case, np.float64, n)
    g = _values(case, np.float64, n, seed=12)
    raw = _raw(act, form)
    fn = getattr(ag, act.function_name(form))
    arrays = (g, x) if form.kind == "backward" else (x,)
    for layout in (lambda a: a, lambda a: np.repeat(a, 2)[::2], lambda a: a[::-1].copy()[::-1]):
        params = [layout(rows[n][pick]) for n in case.variant.params]
        r = raw(*arrays, *params)
        for i in range(k):
            sel = pick == i
            scalar = {n_: float(v[i]) for n_, v in rows.items()}
            expected = fn(*(a[sel] for a in arrays), **scalar)
            assert_identical(r[sel], expected)


@pytest.mark.parametrize("act", PARAMETERISED_ACTS)
def test_parameter_array_per_element(act):
    # A parameter array of x's shape gives each element its own parameter.
    case = _first_case(act)
    rows = _param_rows(act)
    k = len(next(iter(rows.values())))
    x = _values(case, np.float64, 12 * k).reshape(12, k)
    params = {n: np.broadcast_to(v, (12, k)) for n, v in rows.items()}
    grad = getattr(ag, act.function_name(FORMS_BY_KIND["grad"]))
    r = grad(x, **params)
    for j in range(k):
        scalar = {n: float(v[j]) for n, v in rows.items()}
        assert_identical(r[:, j], grad(x[:, j].copy(), **scalar))


# --------------------------------------------------------------------------
# Inputs are never modified
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [pytest.param(d, id=dtype_id(d))
                                   for d in (np.float16, np.float32, np.float64, np.int32)])
@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_inputs_are_never_modified(case, form, dtype):
    x = _values(case, dtype, 600)
    g = _values(case, dtype, 600, seed=10)
    for xv, gv in ((x, g), (x[::-3], g[1::3]), (x.reshape(20, 30).T, g.reshape(20, 30).T)):
        x_before, g_before = xv.copy(), gv.copy()
        call_form(case, form, xv, gv)
        call_form(case, form, xv, gv, out=np.empty_like(call_form(case, form, xv, gv)))
        assert_identical(xv, x_before)
        assert_identical(gv, g_before)
    if case.raw_params():  # parameter arrays, through the raw ufunc
        arrays = [np.full(600, v) for v in case.raw_params()]
        before = [a.copy() for a in arrays]
        args = (g, x) if form.kind == "backward" else (x,)
        case.raw_ufunc(form)(*args, *arrays)
        for a, b in zip(arrays, before):
            assert_identical(a, b)


# --------------------------------------------------------------------------
# Identity of the public objects; pickling
# --------------------------------------------------------------------------


def test_public_names_cover_the_table():
    expected = {case.act.function_name(form) for case in CASES for form in FORMS}
    assert set(PUBLIC_NAMES) == expected
    assert len(PUBLIC_NAMES) == len(set(PUBLIC_NAMES))
    along_axis = {act.function_name(form) for act in AXIS_ACTIVATIONS for form in act.forms}
    assert set(ag.__all__) == expected | along_axis | {
        "ufuncs", "register_quantity_types", "set_num_threads", "get_num_threads", "threads"}


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_functions_are_ufuncs_or_thin_wrappers(case, form):
    fn = case.function(form)
    raw = case.raw_ufunc(form)
    assert isinstance(raw, np.ufunc)
    assert raw.nin == len(form.arrays) + len(case.raw_params()) and raw.nout == 1
    assert raw.__name__ == case.act.name + case.variant.suffix + form.suffix
    # Every public function is a thin wrapper (it dispatches torch/JAX/CuPy
    # arrays) that carries its raw ufunc (one per variant for a selector).
    assert not isinstance(fn, np.ufunc)
    if case.act.selector:
        assert fn.ufuncs[case.variant.key] is raw
        assert set(fn.ufuncs) == {v.key for v in case.act.variants}
    else:
        assert fn.ufunc is raw
    assert fn.__name__ == case.act.function_name(form)
    if not case.act.params:
        assert fn.nin == raw.nin and fn.types == raw.types


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_pickle_round_trips_to_the_same_object(name):
    for obj in (getattr(ag, name), getattr(ag.ufuncs, name)):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            assert pickle.loads(pickle.dumps(obj, protocol=protocol)) is obj


def test_pickled_function_runs_in_a_fresh_process():
    import subprocess
    import sys

    payload = pickle.dumps([getattr(ag, n) for n in PUBLIC_NAMES])
    code = (
        "import pickle, sys, numpy as np\n"
        "fns = pickle.loads(sys.stdin.buffer.read())\n"
        "import actgrad\n"
        "assert all(f is getattr(actgrad, f.__name__) for f in fns)\n"
        "print(len(fns))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], input=payload, capture_output=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().strip() == str(len(PUBLIC_NAMES))
