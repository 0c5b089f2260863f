"""The fused backward pass: a select on flat pieces, a product elsewhere.

docs/contract.rst, "The backward pass is a select": where f'(x) is 0,
``NAME_backward(g, x)`` is 0 even for an inf or NaN g; everywhere else it
equals ``g * NAME_grad(x)`` to the last bit.
"""

import numpy as np
import pytest

from .conftest import (
    CASE_PARAMS,
    FORMS_BY_KIND,
    assert_identical,
    assert_values,
    cast,
    dtype_id,
    grid,
    hand_flat,
    specials,
)

GRAD, BACKWARD = FORMS_BY_KIND["grad"], FORMS_BY_KIND["backward"]
# float16 is computed in float32 and rounded once (tested in test_dtypes), so
# its product is not the float16 product of two rounded float16 values.
EXACT_DTYPES = [pytest.param(dt, id=dtype_id(dt)) for dt in (np.float32, np.float64, np.longdouble)]


def _pairs(case, dtype):
    """Every (g, x) pair of a set of grad_outputs and a set of inputs."""
    xs = np.concatenate([grid(case, dtype, n_random=30), specials(dtype)])
    gs = np.concatenate([specials(dtype), np.array([2.5, -3.0, 1e-3, 7.0], dtype)])
    return np.repeat(gs, xs.size), np.tile(xs, gs.size)


@pytest.mark.parametrize("dtype", EXACT_DTYPES)
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_backward_is_select_then_product_to_the_last_bit(case, dtype):
    g, x = _pairs(case, dtype)
    d = case(GRAD, x)
    with np.errstate(all="ignore"):
        product = g * d
    expected = np.where(d == 0, dtype(0), product)  # +0.0 where selected
    assert_identical(case(BACKWARD, g, x), expected, inputs={"g": g, "x": x})


@pytest.mark.parametrize("dtype", EXACT_DTYPES + [pytest.param(np.float16, id="float16")])
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_flat_pieces_swallow_inf_and_nan_grad_output(case, dtype):
    x = np.concatenate([grid(case, dtype, n_random=60), specials(dtype)])
    x = x[~np.isnan(x)]
    # Hand-derived, not from actgrad: where is f' zero?
    xc = cast(x, np.float32) if dtype == np.float16 else x
    flat = hand_flat(case, xc)
    for bad in (np.inf, -np.inf, np.nan):
        g = np.full(x.shape, bad, dtype)
        out = case(BACKWARD, g, x)
        # exactly +0.0 on the flat pieces
        assert_identical(out[flat], np.zeros(flat.sum(), dtype), inputs={"x": x[flat]})
        # and inf/NaN is propagated everywhere else (never silently dropped)
        assert not np.isfinite(out[~flat]).any(), x[~flat][np.isfinite(out[~flat])]


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_nan_x_gives_nan_even_with_zero_grad_output(case):
    x = np.array([np.nan] * 9)
    for g in (0.0, -0.0, np.inf, np.nan, 1.0):
        assert np.isnan(case(BACKWARD, np.full(9, g), x)).all()


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_backward_with_zero_grad_output(case):
    # 0 * f'(x) where f' is finite and nonzero keeps IEEE's sign of zero.
    x = grid(case, np.float64, n_random=30)
    d = case(GRAD, x)
    for g0 in (0.0, -0.0):
        g = np.full(x.shape, g0)
        expected = np.where(d == 0, 0.0, g0 * d)
        assert_identical(case(BACKWARD, g, x), expected, inputs={"x": x})


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_backward_mixed_dtypes_promote_like_multiply(case):
    x = grid(case, np.float64, n_random=20)
    g32 = np.linspace(-3, 3, x.size, dtype=np.float32)
    out = case(BACKWARD, g32, x)
    assert out.dtype == np.result_type(g32, x) == np.float64
    assert_values(out, case(BACKWARD, g32.astype(np.float64), x))
    out = case(BACKWARD, g32, g32.astype(np.float16))
    assert out.dtype == np.float32
