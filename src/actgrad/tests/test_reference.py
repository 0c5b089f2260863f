"""Values and derivatives against independent references.

PyTorch autograd gives f, f' and g·f' on finite grids that contain every kink
exactly; hand derivations give f'' of the piecewise-linear entries, the
conventions at kinks, the limits at ±inf and NaN handling, where the contract
(docs/contract.rst, sections "Kinks", "NaN", "±inf") differs on purpose from PyTorch.
"""

import math
import warnings

import numpy as np
import pytest

from .conftest import (
    CASE_FORM_PARAMS,
    CASE_PARAMS,
    CASES,
    Case,
    FLOAT_DTYPES,
    FORMS_BY_KIND,
    HAND,
    LIMITS,
    assert_identical,
    assert_matches_torch,
    assert_values,
    call_form,
    cast,
    compute_dtype,
    dtype_id,
    grid,
    hand_reference,
    hand_ulp,
    specials,
    torch_reference,
)

TORCH_DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]
ALL_FLOATS = [pytest.param(dt, id=dtype_id(dt)) for dt in FLOAT_DTYPES]
F, GRAD, GRAD2, BACKWARD = (FORMS_BY_KIND[k] for k in ("f", "grad", "grad2", "backward"))


# --------------------------------------------------------------------------
# Against PyTorch autograd
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_f_and_grad_match_torch_autograd(torch, case, dtype):
    x = grid(case, dtype)
    # The grid really contains every kink, exactly.
    for k in case.kinks():
        assert (x == dtype(k)).any()
    y, d = torch_reference(torch, case, x)
    # exact entries bit for bit; smooth ones within a tolerance (conftest)
    assert_matches_torch(case, case(F, x), y, x, inputs={"x": x})
    assert_matches_torch(case, case(GRAD, x), d, x, inputs={"x": x})


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_backward_matches_torch_autograd(torch, case, dtype):
    x = grid(case, dtype)
    rng = np.random.default_rng(1)
    g = (rng.standard_normal(x.size) * 10).astype(dtype)
    g[::7] = 0.0
    g[1::7] = -0.0
    g[2::11] = 1.0
    _, d = torch_reference(torch, case, x, g)
    assert_matches_torch(case, case(BACKWARD, g, x), d, x, g, inputs={"g": g, "x": x})


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_grad2_matches_torch_double_backward_away_from_kinks(torch, case):
    x = grid(case, np.float64)
    kinks = np.array(case.kinks(), dtype=np.float64)
    if kinks.size:
        x = x[np.min(np.abs(x[:, None] - kinks[None, :]), axis=1) > 1e-2]
    *_, d2 = torch_reference(torch, case, x, second=True)
    assert_matches_torch(case, case(GRAD2, x), d2, x, inputs={"x": x})


# --------------------------------------------------------------------------
# Hand-derived: f'' of piecewise-linear functions, kinks, ±inf, NaN, -0.0
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize(
    "case", [p for p in CASE_PARAMS if p.values[0].act.second_derivative == "0"]
)
def test_grad2_of_piecewise_linear_is_zero_and_nan_at_nan(case, dtype):
    x = np.concatenate([grid(case, dtype), specials(dtype)])
    expected = np.where(np.isnan(x), dtype(np.nan), dtype(0))
    assert_values(case(GRAD2, x), expected, inputs={"x": x})


# (name, params, x, f(x), f'(x)) at every kink: docs/contract.rst "Kinks",
# written out by hand.  f'' is 0 there (the branch f' takes is linear).
KINK_CONVENTIONS = [
    ("relu", {}, 0.0, 0.0, 0.0),
    ("relu6", {}, 0.0, 0.0, 0.0),
    ("relu6", {}, 6.0, 6.0, 0.0),
    ("leaky_relu", {}, 0.0, 0.0, 0.01),
    ("leaky_relu", {"negative_slope": 0.2}, 0.0, 0.0, 0.2),
    ("leaky_relu", {"negative_slope": 0.0}, 0.0, 0.0, 0.0),
    ("leaky_relu", {"negative_slope": -1.5}, 0.0, 0.0, -1.5),
    ("hardtanh", {}, -1.0, -1.0, 0.0),
    ("hardtanh", {}, 1.0, 1.0, 0.0),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}, -2.0, -2.0, 0.0),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}, 3.0, 3.0, 0.0),
    ("hardtanh", {"min_val": 0.5, "max_val": 0.5}, 0.5, 0.5, 0.0),
    ("threshold", {"threshold": 0.0, "value": 0.0}, 0.0, 0.0, 0.0),
    ("threshold", {"threshold": 1.0, "value": -3.0}, 1.0, -3.0, 0.0),
    ("threshold", {"threshold": -0.5, "value": 20.0}, -0.5, 20.0, 0.0),
    ("hardshrink", {}, 0.5, 0.0, 0.0),
    ("hardshrink", {}, -0.5, 0.0, 0.0),
    ("hardshrink", {"lambd": 3.0}, 3.0, 0.0, 0.0),
    ("hardshrink", {"lambd": 3.0}, -3.0, 0.0, 0.0),
    ("hardshrink", {"lambd": 0.0}, 0.0, 0.0, 0.0),
    ("softshrink", {}, 0.5, 0.0, 0.0),
    ("softshrink", {}, -0.5, 0.0, 0.0),
    ("softshrink", {"lambd": 0.25}, 0.25, 0.0, 0.0),
    ("softshrink", {"lambd": 0.25}, -0.25, 0.0, 0.0),
    ("softshrink", {"lambd": 0.0}, 0.0, 0.0, 0.0),
]


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize(
    "name, params, x0, f0, d0",
    [pytest.param(*k, id=f"{k[0]}{k[1] or ''}@{k[2]}") for k in KINK_CONVENTIONS],
)
def test_kink_conventions(name, params, x0, f0, d0, dtype):
    act = next((c.act for c in CASES if c.name == name), None)
    assert act is not None, f"{name} is not in the table"
    case = Case(act, params)
    ct = compute_dtype(dtype)

    def typed(v):  # the contract: computed in the compute dtype, rounded once
        return np.asarray(v, dtype=ct).astype(dtype)

    # x0 and -x0 at a kink at 0, as 1-element arrays and at the tail of a
    # longer (vectorised) array.
    for xs in (x0, -x0) if x0 == 0 else (x0,):
        for n in (1, 37):
            x = np.full(n, xs, dtype=dtype)
            assert_values(case(F, x), np.full(n, typed(f0)), inputs={"x": x})
            assert_values(case(GRAD, x), np.full(n, typed(d0)), inputs={"x": x})
            assert_values(case(GRAD2, x), np.zeros(n, dtype), inputs={"x": x})
            g = np.full(n, 5.0, dtype=dtype)
            expected = typed(np.asarray(5.0, ct) * np.asarray(d0, ct))
            assert_values(case(BACKWARD, g, x), np.full(n, expected), inputs={"x": x})


# The smooth entries' kinks, (name, params, x, f(x), f'(x), f''(x)): docs/contract.rst "Kinks"
# (hardsigmoid_grad(±3) == 0, hardswish_grad(-3) == 0, hardswish_grad(3) == 1,
# selu_grad(0) == scale * alpha) and the docstrings (elu and celu take the left
# branch at 0, f'' too; softsign'' is 0 at 0).  Compared within hand_ulp.
_SELU = 1.0507009873554805 * 1.6732632423543772
SMOOTH_KINK_CONVENTIONS = [
    ("elu", {}, 0.0, 0.0, 1.0, 1.0),
    ("elu", {"alpha": 0.3}, 0.0, 0.0, 0.3, 0.3),
    ("elu", {"alpha": 2.0}, 0.0, 0.0, 2.0, 2.0),
    ("selu", {}, 0.0, 0.0, _SELU, _SELU),
    ("celu", {}, 0.0, 0.0, 1.0, 1.0),
    ("celu", {"alpha": 3.0}, 0.0, 0.0, 1.0, 1.0 / 3.0),
    ("celu", {"alpha": 0.5}, 0.0, 0.0, 1.0, 2.0),
    ("hardsigmoid", {}, -3.0, 0.0, 0.0, 0.0),
    ("hardsigmoid", {}, 3.0, 1.0, 0.0, 0.0),
    ("hardswish", {}, -3.0, 0.0, 0.0, 0.0),
    ("hardswish", {}, 3.0, 3.0, 1.0, 0.0),
    ("softsign", {}, 0.0, 0.0, 1.0, 0.0),
    # the outer branch at +-1 (JAX's double grad of sparse_plus agrees)
    ("sparse_plus", {}, -1.0, 0.0, 0.0, 0.0),
    ("sparse_plus", {}, 1.0, 1.0, 1.0, 0.0),
    ("sparse_sigmoid", {}, -1.0, 0.0, 0.0, 0.0),
    ("sparse_sigmoid", {}, 1.0, 1.0, 0.0, 0.0),
    # softplus's linear switch: at beta x == threshold (not above it) the
    # exact function, as in PyTorch
    ("softplus", {"beta": 1.0, "threshold": 20.0}, 20.0, math.log1p(math.exp(20.0)),
     1 / (1 + math.exp(-20.0)), math.exp(-20.0) / (1 + math.exp(-20.0)) ** 2),
    ("softplus", {"beta": 2.0, "threshold": 5.0}, 2.5, math.log1p(math.exp(5.0)) / 2,
     1 / (1 + math.exp(-5.0)), 2 * math.exp(-5.0) / (1 + math.exp(-5.0)) ** 2),
]


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize(
    "name, params, x0, f0, d0, d20",
    [pytest.param(*k, id=f"{k[0]}{k[1] or ''}@{k[2]}") for k in SMOOTH_KINK_CONVENTIONS],
)
def test_smooth_kink_conventions(name, params, x0, f0, d0, d20, dtype):
    act = next((c.act for c in CASES if c.name == name), None)
    assert act is not None, f"{name} is not in the table"
    case = Case(act, params)
    ct = compute_dtype(dtype)

    def typed(v):
        return np.asarray(v, dtype=ct).astype(dtype)

    for xs in (x0, -x0) if x0 == 0 else (x0,):
        for n in (1, 37):
            x = np.full(n, xs, dtype=dtype)
            # (the values above are float64: a long double result is held to them
            # after rounding it to float64)
            low = (lambda r: r.astype(np.float64)) if dtype == np.longdouble else (lambda r: r)
            dt = np.float64 if dtype == np.longdouble else dtype
            for form, v in ((F, f0), (GRAD, d0), (GRAD2, d20)):
                assert_values(low(case(form, x)), low(np.full(n, typed(v))), inputs={"x": x},
                              ulp=hand_ulp(case, form, dt))
            g = np.full(n, 5.0, dtype=dtype)
            expected = typed(np.asarray(5.0, ct) * np.asarray(d0, ct))
            assert_values(low(case(BACKWARD, g, x)), low(np.full(n, expected)), inputs={"x": x},
                          ulp=hand_ulp(case, BACKWARD, dt))


def test_conventions_and_hand_references_cover_the_table():
    from .conftest import SMOOTH

    names = {c.name for c in CASES}
    kinked = {c.name for c in CASES if c.kinks()}
    missing = {
        "HAND or SMOOTH": names - set(HAND) - set(SMOOTH),
        "LIMITS": names - set(LIMITS),
        "KINK_CONVENTIONS": kinked - {k[0] for k in KINK_CONVENTIONS}
        - {k[0] for k in SMOOTH_KINK_CONVENTIONS},
    }
    assert not any(missing.values()), f"add hand-derived expectations for {missing}"


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_limits_at_infinity(case, form, dtype):
    x = np.array([-np.inf, np.inf] * 20, dtype=dtype)  # also through the vector loop
    lim = LIMITS[case.name](**{**case.act.default_params(), **case.params})
    ct = compute_dtype(dtype)
    if form.kind == "grad2":
        expected = np.zeros(2, dtype)
    elif form.kind == "backward":
        d = np.array(lim["grad"], ct)
        expected = np.where(d == 0, ct.type(0), ct.type(3) * d).astype(dtype)
    else:
        expected = np.array(lim[form.kind], ct).astype(dtype)
    expected = np.tile(expected, 20)
    g = np.full(x.shape, 3.0, dtype)
    assert_values(call_form(case, form, x, g), expected, inputs={"x": x},
                  ulp=hand_ulp(case, form, dtype))


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_nan_in_gives_nan_out(case, form, dtype):
    base = np.concatenate([grid(case, dtype, n_random=40), specials(dtype)])
    base = base[~np.isnan(base)]
    nan_bits = {2: [0x7E00, 0xFE00, 0x7C01, 0x7FFF],
                4: [0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FFFFFFF],
                8: [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001]}
    nans = [np.nan, -np.nan]
    if np.dtype(dtype).itemsize in nan_bits:  # quiet, negative and signalling NaNs
        size = np.dtype(dtype).itemsize
        nans = np.array(nan_bits[size], dtype=f"u{size}").view(dtype)
    # PyTorch's gradient at NaN changes with the array's length; ours must not.
    for n in (1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 300):
        x = np.resize(base, n).astype(dtype)
        positions = sorted({0, n // 2, n - 1, n // 3})
        x[positions] = np.resize(np.asarray(nans, dtype), len(positions))
        g = np.resize(np.array([2.0, -1.0, 0.0, np.inf, -0.0], dtype), n)
        out = call_form(case, form, x, g)
        assert np.isnan(out[positions]).all(), (n, x[positions], out[positions])
        not_nan = np.setdiff1d(np.arange(n), positions)
        # Elsewhere, no NaN appears that the hand derivation does not predict.
        xc = x.astype(compute_dtype(dtype))
        expected = cast(hand_reference(case, form, xc, g.astype(xc.dtype)), dtype)
        assert_values(out[not_nan], expected[not_nan], inputs={"x": x[not_nan]},
                      ulp=hand_ulp(case, form, dtype))


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_negative_zero(case, form, dtype):
    # -0.0 == 0.0 in IEEE: each form gives the same value at -0.0 as at +0.0.
    pos = call_form(case, form, np.zeros(5, dtype), np.full(5, 2.0, dtype))
    neg = call_form(case, form, np.full(5, -0.0, dtype), np.full(5, 2.0, dtype))
    assert_values(neg, pos)
    # and the hand-derived value
    xc = np.full(5, -0.0, compute_dtype(dtype))
    expected = cast(hand_reference(case, form, xc, np.full(5, 2.0, xc.dtype)), dtype)
    assert_values(neg, expected, ulp=hand_ulp(case, form, dtype))


@pytest.mark.parametrize("dtype", ALL_FLOATS)
def test_relu_of_negative_zero_is_positive_zero(dtype):
    import actgrad as ag

    x = np.full(9, -0.0, dtype)
    assert_identical(ag.relu(x), np.zeros(9, dtype))  # its docstring: f(-0.0) = +0.0
    assert_identical(ag.relu_grad(x), np.zeros(9, dtype))  # docs/contract.rst "-0.0"


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_no_floating_point_warnings(case, form, dtype):
    """inf, NaN, subnormal and huge inputs raise no RuntimeWarning."""
    s = specials(dtype)
    x = np.repeat(s, s.size)  # every (g, x) pair of special values
    g = np.tile(s, s.size)
    big = np.resize(x, 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            call_form(case, form, x, g)  # contiguous
            call_form(case, form, x[::-3], g[::-3])  # strided
            call_form(case, form, big, np.resize(g, 1000))
            for v in s:  # scalars
                call_form(case, form, dtype(v), dtype(v))
