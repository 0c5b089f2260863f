"""dtypes: floats preserved, float16 via float32, integers, unsupported types,
and the ``dtype=``/``casting=`` keywords."""

import warnings

import numpy as np
import pytest

from .conftest import (
    CASE_FORM_PARAMS,
    CASE_PARAMS,
    FLOAT_DTYPES,
    FORMS_BY_KIND,
    INT_AND_BOOL_DTYPES,
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

ALL_FLOATS = [pytest.param(dt, id=dtype_id(dt)) for dt in FLOAT_DTYPES]
INTS = [pytest.param(dt, id=dtype_id(dt)) for dt in INT_AND_BOOL_DTYPES]
F = FORMS_BY_KIND["f"]


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_float_dtype_is_preserved(case, form, dtype):
    x = np.linspace(-8, 8, 11).astype(dtype)
    assert call_form(case, form, x).dtype == dtype
    assert call_form(case, form, x[::2]).dtype == dtype
    assert call_form(case, form, dtype(0.5)).dtype == dtype


ALL_FLOAT16 = np.arange(2**16, dtype=np.uint16).view(np.float16)


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_every_float16_value_matches_float32_rounded_once(case, form):
    x = ALL_FLOAT16
    g = np.random.default_rng(16).permutation(ALL_FLOAT16)
    out = call_form(case, form, x, g)
    assert out.dtype == np.float16
    x32, g32 = x.astype(np.float32), g.astype(np.float32)
    ref32 = cast(call_form(case, form, x32, g32), np.float16)
    if case.exact:
        # Against actgrad's own float32 loop, bitwise (as NumPy tests its float16 loops)...
        assert_identical(out, ref32, inputs={"x": x, "g": g})
    else:
        # (a smooth float32 result is itself within a few ulp, so rounding it
        # to float16 may land 1 ulp away from the float16 loop's result)
        assert_values(out, ref32, inputs={"x": x, "g": g}, ulp=1)
    # ... and against the hand derivation in float32, rounded once (smooth
    # entries: within the float16 bound of docs/contract.rst "Accuracy", 1 ulp).
    assert_values(out, cast(hand_reference(case, form, x32, g32), np.float16), inputs={"x": x, "g": g},
                  ulp=hand_ulp(case, form, np.float16))


def _extra_precise(dtype):
    """Points whose results differ between long double and float64."""
    one = np.longdouble(1)
    if np.finfo(np.longdouble).nmant <= np.finfo(np.float64).nmant:
        return np.array([], np.longdouble)
    eps = np.finfo(np.longdouble).eps
    return np.array([one + eps, -(one + eps), 6 - 4 * eps, 6 + 8 * eps, 0.5 + eps, -0.5 - eps,
                     3 + 4 * eps, -3 - 4 * eps, 0.25 + eps, -0.25 - eps, eps],
                    dtype=np.longdouble)


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_longdouble_is_computed_in_longdouble(case, form):
    x = np.concatenate([grid(case, np.longdouble), specials(np.longdouble),
                        _extra_precise(np.longdouble)])
    g = np.resize(np.array([1.0, -2.5, 3.0, 0.1], np.longdouble), x.size)
    g[:4] += np.finfo(np.longdouble).eps
    out = call_form(case, form, x, g)
    assert out.dtype == np.longdouble
    assert_values(out, hand_reference(case, form, x, g), inputs={"x": x, "g": g},
                  ulp=hand_ulp(case, form, np.longdouble))


# The left tails that long double reaches and float64 does not (exp(-745) is
# float64's last subnormal, exp(-11400) long double's): f, f', f'' from mpmath
# at 60 digits, at the exact long double x.  Around -11400 the results are
# subnormal, beyond -11410 (gelu: -151, gelu tanh: -54.5) they are 0.
_FAR_TAILS = {
    "silu": ["-800", "-1e4", "-11000", "-11360", "-11395", "-11405", "-12000"],
    "mish": ["-800", "-1e4", "-11000", "-11360", "-11395", "-11405", "-12000"],
    "gelu(approximate=none)": ["-38.5", "-40", "-90.6", "-120", "-150.5", "-151.2", "-160", "-800", "-12000"],
    "gelu(approximate=tanh)": ["-20", "-31", "-40", "-54", "-54.3", "-60", "-800", "-12000"],
}


def _mp_forms(case, v):
    """(f, f', f'') of silu, mish or gelu at the mpmath number v, from their
    definitions (sigmoid(-v) as its own term: 1 - sigmoid(v) would cancel)."""
    import mpmath as mp

    s, sm = 1 / (1 + mp.exp(-v)), 1 / (1 + mp.exp(v))
    if case.name == "silu":
        return v * s, s * (1 + v * sm), s * sm * (2 + v * (sm - s))
    if case.name == "mish":
        t = mp.tanh(mp.log1p(mp.exp(v)))
        q = 1 - t * t
        return v * t, t + v * q * s, 2 * q * s + v * q * (s * sm - 2 * t * s * s)
    if case.params.get("approximate") == "tanh":
        k, c = mp.sqrt(2 / mp.pi), mp.mpf("0.044715")
        u, g = 2 * k * (v + c * v**3), 1 + 3 * c * v * v
        S, Sm = 1 / (1 + mp.exp(-u)), 1 / (1 + mp.exp(u))
        return (v * S, S + 2 * v * S * Sm * k * g,
                4 * S * Sm * (k * g - v * (S - Sm) * k * k * g * g + 3 * c * k * v * v))
    Phi, phi = mp.ncdf(v), mp.npdf(v)
    return v * Phi, Phi + v * phi, phi * (2 - v * v)


def _to_longdouble(v):
    import mpmath as mp

    with warnings.catch_warnings():  # a value below long double's range reads as 0
        warnings.filterwarnings("ignore", "overflow encountered in conversion from string",
                                RuntimeWarning)
        return np.longdouble(mp.nstr(v, 30))


@pytest.mark.skipif(np.finfo(np.longdouble).nmant <= np.finfo(np.float64).nmant,
                    reason="long double is float64 here")
@pytest.mark.parametrize(
    "case, form", [p for p in CASE_FORM_PARAMS if p.values[0].id in _FAR_TAILS])
def test_longdouble_far_tails_against_mpmath(case, form):
    import mpmath as mp

    x = np.array([np.longdouble(v) for v in _FAR_TAILS[case.id]])
    g = np.full(x.shape, np.longdouble(3))
    expected = []
    with mp.workdps(60):
        for v in x:
            m, e = np.frexp(v)  # exact: str(v) is only the shortest round-trip decimal
            forms = _mp_forms(case, mp.ldexp(mp.mpf(int(np.ldexp(m, 64))), int(e) - 64))
            if form.kind == "backward":
                expected.append(_to_longdouble(3 * forms[1]))
            else:
                expected.append(_to_longdouble(forms[("f", "grad", "grad2").index(form.kind)]))
    expected = np.array(expected)
    assert expected[0] != 0  # the tail is not all underflow
    assert_values(call_form(case, form, x, g), expected, inputs={"x": x},
                  ulp=hand_ulp(case, form, np.longdouble))


# --------------------------------------------------------------------------
# Integers and bool
# --------------------------------------------------------------------------


def _int_values(dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.array([False, True, True, False])
    info = np.iinfo(dtype)
    if dtype.itemsize == 1:
        return np.arange(info.min, info.max + 1).astype(dtype)
    vals = [info.min, info.min + 1, info.max, info.max - 1, 0, 1, 2, 5, 6, 7, 100]
    if info.min < 0:
        vals += [-1, -2, -5, -6, -7, -100]
    rng = np.random.default_rng(3)
    return np.concatenate([np.array(vals, dtype=dtype),
                           rng.integers(info.min, info.max, 300, dtype=dtype, endpoint=True)])


# Hand-derived integer results of the entries that keep integers: exact, in
# the input's own dtype, like np.maximum / np.clip.
INTEGER_F = {
    "relu": lambda x: np.maximum(x, x.dtype.type(0)),
    "relu6": lambda x: x.copy() if x.dtype == np.bool_ else np.clip(x, x.dtype.type(0), x.dtype.type(6)),
}


@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize(
    "case", [p for p in CASE_PARAMS if p.values[0].act.keeps_integers]
)
def test_integer_kept_by_relu_family(case, dtype):
    x = _int_values(dtype)
    expected = INTEGER_F[case.name](x)
    assert expected.dtype == dtype
    for view in (slice(None), slice(None, None, -3)):
        out = case(F, x[view])
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, expected[view])
    # Python ints too
    assert case(F, -3) == INTEGER_F[case.name](np.array(-3))
    assert case(F, 9) == INTEGER_F[case.name](np.array(9))


def test_integer_keeping_entries_are_covered():
    from actgrad._table import ACTIVATIONS

    assert {a.name for a in ACTIVATIONS if a.keeps_integers} == set(INTEGER_F)


@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize(
    "case, form",
    [p for p in CASE_FORM_PARAMS if not (p.values[1].kind == "f" and p.values[0].act.keeps_integers)],
)
def test_integer_input_gives_float64(case, form, dtype):
    x = _int_values(dtype)
    g = np.resize(np.array([3, 0, 1, 2], dtype=dtype), x.size)
    out = call_form(case, form, x, g)
    assert out.dtype == np.float64
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    assert_identical(out, call_form(case, form, x64, g64), inputs={"x": x})
    assert_values(out, hand_reference(case, form, x64, g64), inputs={"x": x},
                  ulp=hand_ulp(case, form, np.float64))
    # an integer grad_output with a float x, and the reverse, promote as multiply does
    if form.kind == "backward":
        assert case(form, g, x.astype(np.float32)).dtype == np.result_type(g, np.float32)
        assert case(form, np.float32(2), x).dtype == np.result_type(np.float32, x.dtype)


# --------------------------------------------------------------------------
# Unsupported dtypes
# --------------------------------------------------------------------------

BAD_ARRAYS = {
    "complex64": np.array([1 + 1j, -1], np.complex64),
    "complex128": np.array([1 + 1j, -1], np.complex128),
    "clongdouble": np.array([1 + 1j, -1], np.clongdouble),
    "object": np.array([1.0, -2.0], dtype=object),
    "str": np.array(["1.0", "-2"]),
    "bytes": np.array([b"1.0", b"-2"]),
    "datetime64": np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]"),
    "timedelta64": np.array([1, -2], dtype="timedelta64[s]"),
}


@pytest.mark.parametrize("bad", list(BAD_ARRAYS))
@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_unsupported_dtype_raises_type_error_naming_function_and_dtype(case, form, bad):
    arr = BAD_ARRAYS[bad]
    good = np.array([1.0, -2.0])
    name = case.act.function_name(form)
    calls = [(arr,)] if form.kind != "backward" else [(good, arr), (arr, good)]
    for arrays in calls:
        with pytest.raises(TypeError) as info:
            case(form, *arrays)
        message = str(info.value)
        assert name in message and str(arr.dtype) in message, message
    # a Python complex scalar as x
    with pytest.raises(TypeError, match=name):
        case(form, *([1.0] * (len(form.arrays) - 1)), 1 + 2j)


# --------------------------------------------------------------------------
# dtype= and casting= as for any ufunc
# --------------------------------------------------------------------------

CASTINGS = ("no", "equiv", "safe", "same_kind", "unsafe")
KW_DTYPES = (None, np.float16, np.float32, np.float64, np.longdouble)


def _outcome(fn):
    try:
        return np.asarray(fn()).dtype
    except TypeError:  # numpy's UFuncTypeError is a TypeError
        return TypeError


@pytest.mark.parametrize("in_dtype", [pytest.param(d, id=dtype_id(d)) for d in FLOAT_DTYPES])
@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_dtype_and_casting_keywords_like_numpy_ufuncs(case, form, in_dtype):
    # For float inputs each form behaves as np.exp (one input) or
    # np.multiply (backward, two inputs) does: same errors, same result dtype.
    x = np.array([-7.0, -0.5, 0.0, 0.5, 1.0, 6.0, 7.0], in_dtype)
    g = np.array([2.0, 3.0, -1.0, 0.5, 4.0, 1.0, -2.0], in_dtype)
    arrays = (g, x) if form.kind == "backward" else (x,)
    numpy_ufunc = np.multiply if form.kind == "backward" else np.exp
    for casting in CASTINGS:
        for dt in KW_DTYPES:
            if case.act.params and dt is not None and not np.can_cast(in_dtype, dt):
                # The parameters are float64 inputs of the raw ufunc, and NumPy's
                # legacy type resolution finds no loop for a narrowing dtype=
                # on a mixed-type ufunc (np.ldexp(x64, 2, dtype=np.float32)
                # fails the same way) except to float64: such a call may raise.
                continue
            kw = {"casting": casting} if dt is None else {"casting": casting, "dtype": dt}
            ours = _outcome(lambda: case(form, *arrays, **kw))
            theirs = _outcome(lambda: numpy_ufunc(*arrays, **kw))
            assert ours == theirs, (casting, dt, ours, theirs)
            if ours is not TypeError and dt is not None:
                # computed in the requested dtype
                expected = case(form, *(a.astype(dt) for a in arrays))
                assert_identical(case(form, *arrays, **kw), expected)
        # out= of another float dtype: the output cast follows the casting rule
        for out_dtype in FLOAT_DTYPES:
            out = np.empty(x.shape, out_dtype)
            ours = _outcome(lambda: case(form, *arrays, out=out, casting=casting))
            theirs = _outcome(lambda: numpy_ufunc(*arrays, out=np.empty_like(out), casting=casting))
            assert ours == theirs, (casting, out_dtype, ours, theirs)
            if ours is not TypeError:
                with np.errstate(all="ignore"):
                    expected = case(form, *arrays).astype(out_dtype)
                assert_identical(out, expected)


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_dtype_keyword_on_integer_input(case, form):
    x = np.array([-7, -1, 0, 1, 3, 6, 7], np.int16)
    g = np.array([2, 3, -1, 5, 4, 1, -2], np.int16)
    for dt in (np.float32, np.float64):
        out = call_form(case, form, x, g, dtype=dt)
        assert out.dtype == dt
        assert_identical(out, call_form(case, form, x.astype(dt), g.astype(dt)))
