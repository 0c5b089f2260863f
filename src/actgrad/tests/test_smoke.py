import numpy as np

import actgrad as ag


def test_relu_grad_answers_the_founding_question():
    x = np.array([[-2.0, 0.0], [0.5, np.nan]])
    # Hand-derived: 1 where x > 0, 0 at and below 0, NaN stays NaN.
    expected = np.array([[0.0, 0.0], [1.0, np.nan]])
    np.testing.assert_array_equal(ag.relu_grad(x), expected)
    assert isinstance(ag.ufuncs.relu_grad, np.ufunc)
    assert ag.relu_grad.ufunc is ag.ufuncs.relu_grad
