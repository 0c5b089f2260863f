"""The far edges: extreme parameters, degenerate shapes, clear errors, warnings
as NumPy's, many threads, no leaks (issue 11).

Expected values come from mpmath (the definitions written out below, at 60
digits, with +-inf taken as +-10**400) or from a hand derivation, never
from actgrad.
"""

import gc
import subprocess
import sys
import threading
import tracemalloc
import warnings

import mpmath
import numpy as np
import pytest

import actgrad as ag

mp = mpmath.mp
DTYPES = (np.float16, np.float32, np.float64)
XS = (0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan)
HUGE = mpmath.mpf(10) ** 400  # stands for inf: |beta x|, |x/alpha| >= 5e76 there, so every result rounds as at the limit


# --------------------------------------------------------------------------
# The definitions, in mpmath: (f, f', f'') of x and the parameters.

def _pos(x):
    return x > 0


def _softplus_threshold_switch(x, beta, threshold, dtype):
    # PyTorch's switch: beta * x rounded in the input's precision (float for
    # float16), compared with the threshold (-1e-300 is below 0 here, where
    # PyTorch's float32 threshold would be -0.0)
    c = np.float32 if dtype in (np.float16, np.float32) else np.float64
    with np.errstate(all="ignore"):
        return bool(mpmath.mpf(float(c(x) * c(beta))) > mpmath.mpf(threshold))


MATH = {
    "leaky_relu": lambda x, negative_slope: (
        x if _pos(x) else negative_slope * x, 1 if _pos(x) else negative_slope, 0),
    "hardtanh": lambda x, min_val, max_val: (
        min(max(x, min_val), max_val), 1 if min_val < x < max_val else 0, 0),
    "threshold": lambda x, threshold, value: (
        x if x > threshold else value, 1 if x > threshold else 0, 0),
    "hardshrink": lambda x, lambd: (
        0 if -lambd <= x <= lambd else x, 0 if -lambd <= x <= lambd else 1, 0),
    "softshrink": lambda x, lambd: (
        x - lambd if x > lambd else (x + lambd if x < -lambd else 0),
        1 if abs(x) > lambd else 0, 0),
    "elu": lambda x, alpha: (
        x if _pos(x) else alpha * mpmath.expm1(x),
        1 if _pos(x) else alpha * mpmath.exp(x), 0 if _pos(x) else alpha * mpmath.exp(x)),
    "celu": lambda x, alpha: (
        x if _pos(x) else alpha * mpmath.expm1(x / alpha),
        1 if _pos(x) else mpmath.exp(x / alpha),
        0 if _pos(x) else mpmath.exp(x / alpha) / alpha),
    # log1p(e^y)/beta, sigmoid(y), beta sigmoid'(y), y = beta x, in forms
    # that mpmath evaluates at |y| = 10**(10**6) too
    "softplus": lambda x, beta: (
        (max(x, 0) + mpmath.log1p(mpmath.exp(-abs(beta * x))) / beta),
        1 / (1 + mpmath.exp(-beta * x)),
        beta * mpmath.exp(-abs(beta * x)) / (1 + mpmath.exp(-abs(beta * x))) ** 2),
}


SMOOTH = ("elu", "celu", "softplus")


def _extremes(dtype, negative):
    info = np.finfo(dtype)
    values = [1e-300, 1e300, float(info.tiny), float(info.max)]
    return values + [-v for v in values] if negative else values


def _cases():
    """(activation, params) at the ends of every parameter's domain."""
    for dtype in DTYPES:
        for v in _extremes(dtype, True):
            yield dtype, "leaky_relu", {"negative_slope": v}
            yield dtype, "elu", {"alpha": v}
            yield dtype, "threshold", {"threshold": v, "value": -2.0}
            yield dtype, "threshold", {"threshold": 0.5, "value": v}
            yield dtype, "hardtanh", {"min_val": -abs(v), "max_val": abs(v)}
            yield dtype, "hardtanh", {"min_val": v, "max_val": v}
            yield dtype, "hardtanh", {"min_val": min(v, -1.0), "max_val": max(v, -1.0)}
        for v in _extremes(dtype, False) + [0.0]:
            yield dtype, "hardshrink", {"lambd": v}
            yield dtype, "softshrink", {"lambd": v}
        for v in _extremes(dtype, False) + [5e-324]:
            yield dtype, "celu", {"alpha": v}
            yield dtype, "softplus", {"beta": v}
            yield dtype, "softplus", {"beta": v, "threshold": 20.0}
        for v in _extremes(dtype, True):
            yield dtype, "softplus", {"beta": 1.0, "threshold": v}


CASES = [pytest.param(d, n, p, id=f"{np.dtype(d).name}-{n}-"
                      + "-".join(f"{k}={v:g}" for k, v in p.items()))
         for d, n, p in _cases()]


def _expected(name, params, x, dtype):
    """(f, f', f'') at x, rounded to dtype (through float64)."""
    if np.isnan(x):
        return (np.nan,) * 3
    with mp.workdps(60):
        # the piecewise-linear ones take mpmath's own inf (slope * inf)
        big = mpmath.inf if name not in SMOOTH else HUGE
        mx = big if x == np.inf else (-big if x == -np.inf else mpmath.mpf(x))
        p = {k: mpmath.mpf(v) for k, v in params.items() if v is not None}
        switch = False
        if name == "softplus" and "threshold" in p:
            switch = _softplus_threshold_switch(x, params["beta"], params["threshold"], dtype)
            p.pop("threshold")
        values = (mx, 1, 0) if switch else MATH[name](mx, **p)
        rounded = []
        for v in values:
            v = mpmath.mpf(v)
            # mpmath's float() of 10**(10**6) is inf, of its reciprocal 0.0;
            # float64 -> dtype rounds once more, exactly for these results
            with np.errstate(over="ignore", under="ignore"):
                rounded.append(dtype(float(v)) if v else dtype(0.0))
        return tuple(rounded)


def _ulps(a, b, dtype):
    """|a - b| in units of the last place of b (in dtype); 0 if equal."""
    a, b = np.float64(a), np.float64(b)
    if a == b:
        return 0.0
    info = np.finfo(dtype)
    if np.isinf(a):
        return np.inf
    spacing = max(float(np.spacing(dtype(abs(b)))), float(info.smallest_subnormal))
    return abs(a - b) / spacing


@pytest.mark.parametrize("dtype, name, params", CASES)
def test_extreme_parameters_give_the_mathematical_value(dtype, name, params):
    x = np.array(XS, dtype=dtype)
    tolerance = 1.0 if dtype is np.float16 else 4.0
    expected = [_expected(name, params, float(xi), dtype) for xi in x]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            results = [getattr(ag, name + s)(x, **params) for s in ("", "_grad", "_grad2")]
            backward = getattr(ag, name + "_backward")(np.ones_like(x), x, **params)
    for order, got in enumerate(results):
        assert got.dtype == dtype
        for xi, g, e in zip(x, got, (e[order] for e in expected)):
            where = f"{name}{('', '_grad', '_grad2')[order]}({xi!r}, {params}) = {g!r}"
            if np.isnan(e):
                assert np.isnan(g), where + ", expected NaN"
                continue
            assert not np.isnan(g), where + f": NaN where the value is {e!r}"
            if np.isinf(e):  # the infinite limits, exact
                assert g == e, where + f", expected {e!r}"
            else:  # 0 too: within `tolerance` subnormal steps (3.7e-48 is not)
                assert _ulps(g, e, dtype) <= tolerance, where + f", expected {e!r}"
    np.testing.assert_array_equal(backward, results[1])


# --------------------------------------------------------------------------
# Finding 1: parameters rounded to float32/float16 silently gave NaN.

def test_celu_huge_alpha_in_float32_is_x():
    # celu(x, alpha) = alpha expm1(x/alpha) = x + x^2/(2 alpha) + ...: x in float32
    x = np.array([-np.inf, -3.0, -1.0, -0.0, 0.0, 2.0], dtype=np.float32)
    np.testing.assert_array_equal(ag.celu(x, alpha=1e300), x)
    np.testing.assert_array_equal(ag.celu_grad(x, alpha=1e300), [0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(ag.celu_grad2(x, alpha=1e300), [0, 0, 0, 0, 0, 0])


def test_softplus_extreme_beta_in_float32():
    x = np.array([-np.inf, -0.0, 0.0, np.inf], dtype=np.float32)
    # beta = 1e-300: f(-inf) = 0, f(+inf) = inf; f(0) = log(2)/beta overflows float32
    np.testing.assert_array_equal(ag.softplus(x, beta=1e-300), [0, np.inf, np.inf, np.inf])
    np.testing.assert_array_equal(ag.softplus_grad(x, beta=1e-300), [0, 0.5, 0.5, 1])
    # beta = 1e300: f(0) = log(2)/beta = 7e-301 is 0 in float32; f'(0) = 1/2
    np.testing.assert_array_equal(ag.softplus(x, beta=1e300), [0, 0, 0, np.inf])
    np.testing.assert_array_equal(ag.softplus_grad(x, beta=1e300), [0, 0.5, 0.5, 1])
    np.testing.assert_array_equal(ag.softplus_grad2(x, beta=1e300), [0, np.inf, np.inf, 0])


def test_tiny_nonzero_parameters_keep_the_limits_in_float32():
    # a slope of 1e-300 is no slope of 0: leaky_relu(-inf) = -1e300 * inf = -inf
    # (in float the slope is the smallest subnormal, so f(-1) is one step
    # from the exact -1e-300, which rounds to -0)
    x = np.array([-np.inf, -1.0, np.inf], dtype=np.float32)
    d = np.finfo(np.float32).smallest_subnormal
    np.testing.assert_array_equal(ag.leaky_relu(x, negative_slope=1e-300), [-np.inf, -d, np.inf])
    np.testing.assert_array_equal(ag.leaky_relu(x, negative_slope=-1e-300), [np.inf, d, np.inf])
    np.testing.assert_array_equal(ag.leaky_relu(x.astype(np.float16), negative_slope=1e-300),
                                  [-np.inf, -0.0, np.inf])
    np.testing.assert_array_equal(ag.leaky_relu(x, negative_slope=0.0), [0.0, 0.0, np.inf])


def test_leaky_relu_huge_slope_at_zero_in_float32():
    x = np.array([-0.0, 0.0, -1.0], dtype=np.float32)
    y = ag.leaky_relu(x, negative_slope=1e300)
    np.testing.assert_array_equal(y, [0.0, 0.0, -np.inf])  # -1e300 overflows float32
    assert np.signbit(y[0]) and not np.signbit(y[1])  # slope * (+-0) = +-0
    np.testing.assert_array_equal(ag.leaky_relu(x, negative_slope=-1e300), [0.0, 0.0, np.inf])


@pytest.mark.parametrize("name, param", [("leaky_relu", "negative_slope"), ("elu", "alpha"),
                                         ("celu", "alpha"), ("threshold", "threshold"),
                                         ("hardshrink", "lambd"), ("softshrink", "lambd")])
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.array([1.0, np.inf])])
@pytest.mark.parametrize("suffix", ["", "_grad", "_grad2"])
def test_infinite_slope_or_scale_is_rejected(name, param, value, suffix):
    # inf is no real number: leaky_relu(0, inf) would be inf * 0
    params = {param: value, **({"value": 0.0} if name == "threshold" else {})}
    with pytest.raises(ValueError, match=f"^{name}{suffix}: {param} must be finite"):
        getattr(ag, name + suffix)(np.zeros(2), **params)


# --------------------------------------------------------------------------
# Finding 2: limits at +-inf, taken rather than clamped.

def test_limits_at_infinity_are_exact_with_extreme_parameters():
    assert ag.elu_grad(-np.inf, alpha=1e300) == 0.0
    assert ag.elu_grad(np.float32(-np.inf), alpha=1e20) == 0.0
    assert ag.elu_grad2(-np.inf, alpha=-1e300) == 0.0
    assert ag.softplus(-np.inf, beta=1e-300) == 0.0
    assert ag.softplus_grad2(np.inf, beta=1e300) == 0.0
    assert ag.softplus_grad2(-np.inf, beta=1e300) == 0.0
    assert ag.celu_grad2(np.float32(-np.inf), alpha=1e-30) == 0.0
    assert ag.celu_grad2(-np.inf, alpha=5e-324) == 0.0
    # where beta x or x/alpha is far below the underflow, e times 1/beta is 0
    assert ag.softplus(-1e304, beta=1e-300) == 0.0  # e^-10000 / 1e-300
    assert ag.celu_grad2(-1.0, alpha=1e-300) == 0.0  # e^-1e300 / 1e-300


def test_tiny_exponentials_times_a_huge_factor():
    # softplus(-1e303, beta=1e-300) = log1p(e^-1000)/1e-300 = e^-1000 * 1e300
    expected = float(mpmath.exp(-1000) * mpmath.mpf(1e300))
    assert expected == pytest.approx(5.0759588975e-135, rel=1e-9)
    # (the double beta x is -1000 (1 + 2.5e-17): the exact product decides)
    b, x = mpmath.mpf(1e-300), mpmath.mpf(-1e303)
    with mpmath.workdps(50):
        e_f = mpmath.log1p(mpmath.exp(b * x)) / b
    assert ag.softplus(-1e303, beta=1e-300) == pytest.approx(float(e_f), rel=1e-15, abs=0)
    assert ag.elu_grad(-1000.0, alpha=1e300) == pytest.approx(expected, rel=1e-15, abs=0)
    assert ag.elu_grad2(-1000.0, alpha=1e300) == pytest.approx(expected, rel=1e-15, abs=0)
    # with the exact products and quotients of the arguments (mpmath at 50 digits)
    x, tiny, huge = mpmath.mpf(-1e-297), mpmath.mpf(1e-300), mpmath.mpf(1e300)
    with mpmath.workdps(50):
        e_celu = mpmath.exp(x / tiny) / tiny          # celu f'' = e^(x/alpha)/alpha
        e_sp = huge * mpmath.exp(huge * x) / (1 + mpmath.exp(huge * x)) ** 2  # beta s'(beta x)
    assert ag.celu_grad2(-1e-297, alpha=1e-300) == pytest.approx(float(e_celu), rel=1e-15, abs=0)
    assert ag.softplus_grad2(-1e-297, beta=1e300) == pytest.approx(float(e_sp), rel=1e-15, abs=0)
    # float: exp's argument was clamped at -150; e^-180 3e38 is a float subnormal
    x32, a32 = np.float32(-180.0), np.float32(3e38)
    expected32 = float(mpmath.exp(-180) * mpmath.mpf(float(a32)))
    assert expected32 == pytest.approx(2.01426e-40, rel=1e-5)
    got = ag.elu_grad(x32, alpha=a32)
    assert got.dtype == np.float32
    assert abs(float(got) - expected32) <= float(np.finfo(np.float32).smallest_subnormal) / 2


# --------------------------------------------------------------------------
# Finding 3: array parameters compared elementwise.

def test_hardtanh_array_bounds_are_compared_elementwise():
    x = np.array([0.7, 0.7])
    with pytest.raises(ValueError, match="hardtanh: min_val must not be greater than max_val"):
        ag.hardtanh(x, min_val=[0.0, 0.5], max_val=[1.0, 0.4])
    # a valid broadcast of a list against the scalar default max_val
    x3 = np.array([-5.0, 0.5, 2.0])
    np.testing.assert_array_equal(ag.hardtanh(x3, min_val=[-1.0, -2.0, -3.0]), [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(ag.hardtanh_grad(x3, min_val=[-1.0, -2.0, -3.0]), [0, 1, 0])
    with pytest.raises(ValueError, match="hardtanh_grad: the parameters do not broadcast"):
        ag.hardtanh_grad(x3, min_val=[-1.0, -2.0], max_val=[1.0, 2.0, 3.0])


# --------------------------------------------------------------------------
# Finding 4: a str subclass selects like the str.

@pytest.mark.parametrize("suffix", ["", "_grad", "_grad2"])
def test_gelu_approximate_numpy_str(suffix):
    x = np.linspace(-3, 3, 7)
    f = getattr(ag, "gelu" + suffix)
    np.testing.assert_array_equal(f(x, approximate=np.str_("tanh")), f(x, approximate="tanh"))
    np.testing.assert_array_equal(f(x, approximate=np.str_("none")), f(x))
    with pytest.raises(ValueError, match="gelu"):
        f(x, approximate=np.str_("TANH"))


# --------------------------------------------------------------------------
# Finding 5: an empty core dimension visits no rows.  Run in a child with a
# timeout: 10**12 empty rows took hours before (4 s per 10**9 rows).

def test_empty_core_dimension_visits_no_rows():
    code = (
        "import numpy as np, actgrad as ag\n"
        "e = np.empty((10**12, 0))\n"
        "assert ag.softmax(e).shape == e.shape\n"
        "assert ag.log_softmax_backward(e, e).shape == e.shape\n"
        "assert ag.glu(np.empty((10**12, 0))).shape == (10**12, 0)\n"
        "assert ag.glu_backward(np.empty((10**12, 0)), np.empty((10**12, 0))).shape == (10**12, 0)\n"
        "p = np.empty((10**12, 3, 0))\n"
        "gi, gw = ag.prelu_backward(p, p, np.ones(3))\n"
        "assert gi.shape == p.shape and (gw == 0).all() and gw.shape == (3,)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --------------------------------------------------------------------------
# Finding 6: errors that name the function.

def test_errors_name_the_function():
    x = np.ones(3)
    with pytest.raises(ValueError, match="^elu: alpha is outside the float64 range"):
        ag.elu(x, alpha=10**400)
    with pytest.raises(ValueError, match="^hardtanh_grad: max_val is outside"):
        ag.hardtanh_grad(x, max_val=10**400)
    with pytest.raises(np.exceptions.AxisError, match="^softmax: axis"):
        ag.softmax(x, axis=2**70)
    with pytest.raises(np.exceptions.AxisError, match="^log_softmax_backward: axis"):
        ag.log_softmax_backward(x, x, axis=-2**70)
    with pytest.raises(TypeError, match="^softmax: axis must be an integer, got None"):
        ag.softmax(np.ones((2, 2)), axis=None)
    with pytest.raises(ValueError, match="^softmax: out must be an array or a tuple of one"):
        ag.softmax(x, out=(np.ones(3), np.ones(3)))
    with pytest.raises(ValueError, match="^celu_grad: alpha must not be NaN"):
        ag.celu_grad(x, alpha=np.nan)
    with pytest.raises(ValueError, match="^softplus_backward: beta must be finite and > 0"):
        ag.softplus_backward(x, x, beta=-1.0)


def test_python_int_beyond_int64_is_computed_as_float64():
    # sigmoid(2**63) worked; elu(2**63) raised OverflowError (a parameter
    # operand made NumPy take the Python int as int64)
    assert ag.elu(2**63) == float(2**63)
    assert ag.leaky_relu(2**64 - 1, negative_slope=0.5) == 2.0**64
    assert ag.elu(2**63) == ag.elu(float(2**63))
    assert ag.sigmoid(2**63) == 1.0


class _NoShape:
    def __array_ufunc__(self, *args, **kwargs):
        return NotImplemented


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "glu", "prelu"])
def test_axis_function_on_object_without_shape(name):
    args = (_NoShape(), 0.25) if name == "prelu" else (_NoShape(),)
    with pytest.raises(TypeError, match=f"^{name}: _NoShape has __array_ufunc__ but no shape"):
        getattr(ag, name)(*args)


@pytest.mark.parametrize("name", ["softmax_backward", "log_softmax_backward"])
def test_axis_backward_of_datetime_is_a_type_error_naming_the_function(name):
    g = np.ones(2)
    x = np.array(["2020-01-01", "2020-01-02"], dtype="M8[D]")
    with pytest.raises(TypeError, match=name):
        getattr(ag, name)(g, x)
    with pytest.raises(TypeError, match=name):
        getattr(ag, name)(x, g)


# --------------------------------------------------------------------------
# Finding 7: where= without out= warns as NumPy's own ufuncs do.

def _warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [(w.category, str(w.message)) for w in caught]


WHERE_CALLS = {  # name: (function, number of arrays, parameters)
    "relu": ("relu", 1, {}), "relu_grad": ("relu_grad", 1, {}),
    "relu_backward": ("relu_backward", 2, {}), "sigmoid": ("sigmoid", 1, {}),
    "leaky_relu": ("leaky_relu", 1, {}), "leaky_relu_slope": ("leaky_relu", 1, {"negative_slope": 0.2}),
    "hardtanh_grad": ("hardtanh_grad", 1, {}), "gelu": ("gelu", 1, {}),
    "softplus": ("softplus", 1, {}), "softplus_threshold": ("softplus", 1, {"threshold": 20.0}),
}


@pytest.mark.parametrize("case", list(WHERE_CALLS))
def test_where_without_out_warns_as_numpy(case):
    name, n, params = WHERE_CALLS[case]
    f = getattr(ag, name)
    x = np.ones(4)
    m = np.array([True, False, True, False])
    arrays = (x,) * n
    # NumPy's own behaviour is the reference (it warns from NumPy 2.3 on; an
    # older NumPy is silent, and so must actgrad be)
    numpy_warnings = _warnings_of(lambda: np.exp(x, where=m))
    assert _warnings_of(lambda: f(*arrays, where=m, **params)) == numpy_warnings
    # with out= (out=None too, as NumPy's message advises) neither warns
    assert _warnings_of(lambda: np.exp(x, where=m, out=None)) == []
    assert _warnings_of(lambda: f(*arrays, where=m, out=None, **params)) == []
    out = np.zeros(4)
    assert _warnings_of(lambda: f(*arrays, where=m, out=out, **params)) == []
    np.testing.assert_array_equal(out[m], f(*arrays, **params)[m])


# --------------------------------------------------------------------------
# What already held, kept held: many threads on one function and one shared
# input give identical results; success and error paths leak nothing.

@pytest.mark.parametrize("name", ["relu_grad", "gelu", "softplus_grad2", "leaky_relu_backward",
                                  "softmax", "glu_backward", "prelu_backward"])
def test_many_threads_one_function_identical_results(name):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((64, 1000)) * 10
    x[0, :5] = [np.inf, -np.inf, np.nan, 0.0, -0.0]
    x.flags.writeable = False
    f = getattr(ag, name)
    args = {"leaky_relu_backward": (x, x), "glu_backward": (x[:, :500], x),
            "prelu_backward": (x, x, np.full(1000, 0.25))}.get(name, (x,))
    reference = f(*args)
    results = [None] * 16
    barrier = threading.Barrier(16)

    def work(i):
        barrier.wait()
        for _ in range(20):
            results[i] = f(*args)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        for a, b in zip(*(v if isinstance(v, tuple) else (v,) for v in (r, reference))):
            np.testing.assert_array_equal(a, b)


def _leak_calls():
    x = np.linspace(-5, 5, 101)
    x32 = x.astype(np.float32)
    out = np.empty_like(x)
    ok = [
        lambda: ag.relu_grad(x), lambda: ag.relu_grad(x, out=out),
        lambda: ag.leaky_relu_backward(x, x, negative_slope=0.2),
        lambda: ag.gelu(x32, approximate="tanh"), lambda: ag.softplus(x, beta=2.0, threshold=20.0),
        lambda: ag.celu_grad2(x, alpha=1e300), lambda: ag.hardtanh(x, min_val=[-1.0] * 101),
        lambda: ag.softmax(x.reshape(1, -1), axis=1), lambda: ag.glu_backward(x[:50], x[:100]),
        lambda: ag.prelu_backward(x.reshape(1, 101), x.reshape(1, 101), 0.25),
        lambda: ag.elu(2**63), lambda: ag.relu(x.tolist()),
    ]
    bad = [
        lambda: ag.elu(x, alpha=np.inf), lambda: ag.elu(x, alpha=10**400),
        lambda: ag.celu_grad(x, alpha=np.nan), lambda: ag.hardtanh(x, min_val=2.0),
        lambda: ag.gelu(x, approximate="x"), lambda: ag.softmax(x, axis=5),
        lambda: ag.softmax(x, axis=None), lambda: ag.softmax(_NoShape()),
        lambda: ag.softmax(x, out=(x, x)), lambda: ag.relu(np.array(["a"])),
        lambda: ag.leaky_relu(x, negative_slope="a"), lambda: ag.glu(x[:3]),
    ]
    return ok, bad


def _run_all(ok, bad, times):
    for _ in range(times):
        for call in ok:
            call()
        for call in bad:
            try:
                call()
            except (TypeError, ValueError):
                pass
            else:
                raise AssertionError("expected an error")


@pytest.mark.slow
def test_success_and_error_paths_do_not_leak():
    ok, bad = _leak_calls()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _run_all(ok, bad, 200)  # warm up caches (imports, registries, interned names)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            blocks = sys.getallocatedblocks()
            _run_all(ok, bad, 2000)
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
            block_growth = sys.getallocatedblocks() - blocks
        finally:
            tracemalloc.stop()
    # 2000 rounds of 24 calls: a leak of one object per call would be 48000
    # blocks and megabytes; what remains is the allocator's noise
    assert grown < 200_000, grown
    assert block_growth < 2_000, block_growth
