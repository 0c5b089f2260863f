"""Property-based tests (hypothesis) over every table entry.

The profile (max_examples, no deadline) is set in conftest.py; run with
ACTGRAD_HYPOTHESIS_PROFILE=actgrad-thorough for a longer search.
"""

import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from actgrad._table import ACTIVATIONS  # noqa: E402

from .conftest import (  # noqa: E402
    CASE_PARAMS,
    FORMS_BY_KIND,
    Case,
    assert_identical,
    assert_matches_torch,
    torch_reference,
)

F, GRAD, GRAD2, BACKWARD = (FORMS_BY_KIND[k] for k in ("f", "grad", "grad2", "backward"))
FLOAT_DTYPES = st.sampled_from([np.float32, np.float64])


def _arrays(dtype, shape, **floats):
    return hnp.arrays(dtype, shape, elements=st.floats(width=np.dtype(dtype).itemsize * 8, **floats))


@st.composite
def g_and_x(draw, finite=False):
    dtype = draw(FLOAT_DTYPES)
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=40))
    kw = {"allow_nan": False, "allow_infinity": False} if finite else {}
    g = draw(_arrays(dtype, shape, **kw))
    x = draw(_arrays(dtype, shape, **kw))
    return g, x


def _param_strategy(p):
    if p.domain == "choice":
        return st.sampled_from(p.choices)
    if p.domain == "optional":
        return st.none() | st.floats(-1e3, 1e3)
    if p.domain == "positive":
        return st.floats(1e-2, 1e3)
    if p.domain == "nonnegative":
        return st.floats(0, 1e3)
    if p.domain == "any":
        return st.floats(-1e3, 1e3) | st.just(math.nan)
    return st.floats(-1e3, 1e3)


@st.composite
def cases(draw):
    """An activation with parameters drawn from their whole domain."""
    act = draw(st.sampled_from(ACTIVATIONS))
    params = {p.name: draw(_param_strategy(p)) for p in act.params}
    if act.constraint is not None:
        assume(act.constraint[0](**params))
    return Case(act, params)


# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_PARAMS)
@given(gx=g_and_x())
def test_backward_is_select_of_grad(case, gx):
    g, x = gx
    d = case(GRAD, x)
    with np.errstate(all="ignore"):
        expected = np.where(d == 0, x.dtype.type(0), g * d)
    assert_identical(case(BACKWARD, g, x), expected, inputs={"g": g, "x": x})


@given(case=cases(), gx=g_and_x())
def test_backward_is_select_of_grad_for_any_parameters(case, gx):
    g, x = gx
    d = case(GRAD, x)
    with np.errstate(all="ignore"):
        expected = np.where(d == 0, x.dtype.type(0), g * d)
    assert_identical(case(BACKWARD, g, x), expected, inputs={"g": g, "x": x})


@given(case=cases(), gx=g_and_x(finite=True))
def test_f_and_grad_match_torch_for_any_parameters(torch, case, gx):
    g, x = gx
    assume(not any(_is_nan(v) for v in case.params.values()))
    # PyTorch rounds a parameter to the input's dtype, so one that underflows
    # to 0 or overflows there gives it a different function from actgrad's
    # (which keeps a nonzero parameter nonzero: see the contract); those
    # parameters are test_robustness's extreme-parameter sweep
    assume(all(_representable(v, x.dtype) for v in case.params.values()))
    y, d = torch_reference(torch, case, x, g)
    # exact entries bit for bit; smooth ones on moderate inputs, within a tolerance
    assert_matches_torch(case, case(F, x), y, x, inputs={"x": x})
    assert_matches_torch(case, case(BACKWARD, g, x), d, x, g, inputs={"g": g, "x": x})


def _is_nan(v):
    return isinstance(v, float) and math.isnan(v)


def _representable(v, dtype):
    if not isinstance(v, float) or v == 0:
        return True
    with np.errstate(over="ignore"):
        r = dtype.type(v)
    return r != 0 and np.isfinite(r)


def _away_from_kinks(case, x, h):
    return all(abs(x - k) > 4 * h for k in case.kinks())


X_MODERATE = st.floats(-100, 100, allow_nan=False)


@pytest.mark.parametrize("case", CASE_PARAMS)
@given(x=X_MODERATE)
def test_grad_agrees_with_central_differences(case, x):
    h = 1e-5 * max(1.0, abs(x))
    assume(_away_from_kinks(case, x, h))
    xs = np.array([x - h, x + h])
    fm, fp = case(F, xs)
    fd = (fp - fm) / (2 * h)
    d = case(GRAD, np.array([x]))[0]
    assert math.isclose(d, fd, rel_tol=1e-6, abs_tol=1e-6), (x, d, fd)


@pytest.mark.parametrize("case", CASE_PARAMS)
@given(x=X_MODERATE)
def test_grad2_agrees_with_central_differences_of_grad(case, x):
    h = 1e-5 * max(1.0, abs(x))
    assume(_away_from_kinks(case, x, h))
    dm, dp = case(GRAD, np.array([x - h, x + h]))
    fd = (dp - dm) / (2 * h)
    d2 = case(GRAD2, np.array([x]))[0]
    assert math.isclose(d2, fd, rel_tol=1e-6, abs_tol=1e-6), (x, d2, fd)


@given(case=cases(), x=X_MODERATE)
def test_grad_agrees_with_central_differences_for_any_parameters(case, x):
    assume(not any(_is_nan(v) for v in case.params.values()))
    h = 1e-6 * max(1.0, abs(x))
    assume(_away_from_kinks(case, x, h))
    fm, fp = case(F, np.array([x - h, x + h]))
    d = case(GRAD, np.array([x]))[0]
    assert math.isclose(d, (fp - fm) / (2 * h), rel_tol=1e-5, abs_tol=1e-5)


@given(case=cases(), gx=g_and_x())
def test_shape_dtype_and_nan_for_any_input(case, gx):
    g, x = gx
    for form in (F, GRAD, GRAD2):
        r = case(form, x)
        assert r.shape == x.shape and r.dtype == x.dtype
        assert np.isnan(r[np.isnan(x)]).all()
    r = case(BACKWARD, g, x)
    assert r.shape == x.shape and r.dtype == x.dtype
    assert np.isnan(r[np.isnan(x)]).all()


@given(case=cases(), gx=g_and_x())
def test_strided_equals_contiguous_for_any_input(case, gx):
    g, x = gx
    for form in (F, GRAD, GRAD2, BACKWARD):
        args = (g, x) if form is BACKWARD else (x,)
        expected = case(form, *(np.ascontiguousarray(a[..., ::-2]) for a in args))
        assert_identical(case(form, *(a[..., ::-2] for a in args)), expected)
