"""Keyword parameters: PyTorch's defaults, and clear errors for bad values."""

import inspect
import math

import numpy as np
import pytest

import actgrad as ag

from .conftest import CASES, FORMS

# The parameters of docs/contract.rst "Names and the four forms", with PyTorch's defaults, by hand.
SPEC_PARAMETERS = {
    "relu": {},
    "relu6": {},
    "leaky_relu": {"negative_slope": 0.01},
    "hardtanh": {"min_val": -1.0, "max_val": 1.0},
    "threshold": {"threshold": inspect.Parameter.empty, "value": inspect.Parameter.empty},
    "hardshrink": {"lambd": 0.5},
    "softshrink": {"lambd": 0.5},
    "sigmoid": {},
    "logsigmoid": {},
    "tanh": {},
    "silu": {},
    "elu": {"alpha": 1.0},
    "selu": {},
    "celu": {"alpha": 1.0},
    "hardsigmoid": {},
    "hardswish": {},
    "softsign": {},
    "tanhshrink": {},
    "gelu": {"approximate": "none"},
    "mish": {},
    "softplus": {"beta": 1.0, "threshold": None},
    "squareplus": {"b": 4.0},
    "sparse_plus": {},
    "sparse_sigmoid": {},
}

ACTS = {c.act.name: c.act for c in CASES}
PARAMETERISED = [pytest.param(a, id=a.name) for a in ACTS.values() if a.params]
FORM_IDS = [pytest.param(f, id=f.kind) for f in FORMS]
X = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])


def _call(act, form, **params):
    fn = getattr(ag, act.function_name(form))
    arrays = (np.ones_like(X), X) if form.kind == "backward" else (X,)
    return fn(*arrays, **params)


def _valid(act):
    """A valid parameter set (the defaults, else the first test set)."""
    case = next(c for c in CASES if c.act is act)
    return dict(case.params)


@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize("name", list(SPEC_PARAMETERS))
def test_signature_has_spec_parameters_and_defaults(name, form):
    assert name in ACTS, f"{name} from the contract is missing from the table"
    fn = getattr(ag, name + form.suffix)
    if not SPEC_PARAMETERS[name]:
        assert isinstance(fn.ufunc, np.ufunc)
        return
    if ACTS[name].selector:  # one ufunc per variant
        assert all(isinstance(u, np.ufunc) for u in fn.ufuncs.values())
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    arrays = ["grad_output", "x"] if form.kind == "backward" else ["x"]
    assert [p.name for p in params[: len(arrays)]] == arrays
    keywords = {p.name: p.default for p in params[len(arrays):]
                if p.kind == p.POSITIONAL_OR_KEYWORD}
    if not ACTS[name].selector:  # a selecting wrapper passes out= in **ufunc_kwargs
        assert sig.parameters["out"].kind == inspect.Parameter.KEYWORD_ONLY
    assert keywords == SPEC_PARAMETERS[name]
    assert params[-1].kind == inspect.Parameter.VAR_KEYWORD  # **ufunc_kwargs


def test_every_parameterised_entry_is_in_the_spec_list():
    assert set(ACTS) <= set(SPEC_PARAMETERS), set(ACTS) - set(SPEC_PARAMETERS)


# --------------------------------------------------------------------------
# Bad values: TypeError / ValueError naming the function and the parameter
# --------------------------------------------------------------------------

NON_NUMERIC = {
    "str": "0.5",
    "None": None,
    "complex": 1j,
    "complex_real": complex(0.5, 0.0),
    "numpy_complex": np.complex128(0.5),
    "object": object(),
    "str_array": np.array(["0.5"]),
    "complex_array": np.array([0.5 + 0j]),
    "dict": {"a": 1},
}


def _check_message(info, act, pname):
    message = str(info.value)
    assert act.name in message and pname in message, message


@pytest.mark.parametrize("bad", list(NON_NUMERIC))
@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize("act", PARAMETERISED)
def test_non_numeric_parameter_raises_type_error(act, form, bad):
    for p in act.params:
        if p.domain == "choice":  # strings select a variant: see the test below
            continue
        if p.domain == "optional" and NON_NUMERIC[bad] is None:
            continue  # None is a valid value (it selects a variant)
        params = {**_valid(act), p.name: NON_NUMERIC[bad]}
        with pytest.raises(TypeError) as info:
            _call(act, form, **params)
        _check_message(info, act, p.name)


@pytest.mark.parametrize("bad", ["tanh ", "None", "", "TANH", None, 1.0, 0, np.str_("x")])
@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize(
    "act", [a for a in PARAMETERISED if any(p.domain == "choice" for p in a.values[0].params)]
)
def test_choice_parameter_outside_its_choices_raises_value_error(act, form, bad):
    for p in (p for p in act.params if p.domain == "choice"):
        with pytest.raises(ValueError) as info:
            _call(act, form, **{**_valid(act), p.name: bad})
        _check_message(info, act, p.name)
        for choice in p.choices:  # every listed choice works
            assert _call(act, form, **{**_valid(act), p.name: choice}).shape == X.shape


NON_POSITIVE = {"zero": 0.0, "-0.0": -0.0, "int0": 0, "negative": -0.5, "inf": math.inf,
                "-inf": -math.inf, "numpy": np.float32(-0.25),
                "array": np.array([0.5, 0.0, 0.5, 0.5, 0.5])}


@pytest.mark.parametrize("bad", list(NON_POSITIVE))
@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize(
    "act", [a for a in PARAMETERISED if any(p.domain == "positive" for p in a.values[0].params)]
)
def test_positive_parameter_must_be_finite_and_positive(act, form, bad):
    for p in (p for p in act.params if p.domain == "positive"):
        with pytest.raises(ValueError) as info:
            _call(act, form, **{**_valid(act), p.name: NON_POSITIVE[bad]})
        _check_message(info, act, p.name)
        _call(act, form, **{**_valid(act), p.name: 5e-324})  # the tiniest is fine


NANS = {
    "float": math.nan,
    "numpy_float64": np.float64("nan"),
    "numpy_float32": np.float32("nan"),
    "array": np.array([0.5, math.nan, 0.5, 0.5, 0.5]),
    "0d_array": np.array(math.nan),
}


@pytest.mark.parametrize("nan", list(NANS))
@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize("act", PARAMETERISED)
def test_nan_parameter_raises_value_error(act, form, nan):
    for p in act.params:
        params = {**_valid(act), p.name: NANS[nan]}
        if p.domain == "any":
            # (threshold's `value` may be NaN: it is the replacement value)
            assert _call(act, form, **params).shape == X.shape
            continue
        with pytest.raises(ValueError) as info:
            _call(act, form, **params)
        _check_message(info, act, p.name)


def test_threshold_value_nan_replaces_with_nan():
    # Hand-derived: x <= threshold gives `value`, here NaN; f' is 0 there.
    out = ag.threshold(X, threshold=0.0, value=math.nan)
    np.testing.assert_array_equal(out, [np.nan, np.nan, np.nan, 0.5, 2.0])
    np.testing.assert_array_equal(ag.threshold_grad(X, threshold=0.0, value=math.nan),
                                  [0, 0, 0, 1, 1])


NEGATIVE = {"float": -0.5, "int": -1, "tiny": -5e-324, "numpy": np.float32(-0.25),
            "array": np.array([0.5, -1.0, 0.5, 0.5, 0.5]), "-inf": -math.inf}


@pytest.mark.parametrize("neg", list(NEGATIVE))
@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize(
    "act", [a for a in PARAMETERISED if any(p.domain == "nonnegative" for p in a.values[0].params)]
)
def test_negative_value_of_a_nonnegative_parameter(act, form, neg):
    for p in (p for p in act.params if p.domain == "nonnegative"):
        with pytest.raises(ValueError) as info:
            _call(act, form, **{**_valid(act), p.name: NEGATIVE[neg]})
        _check_message(info, act, p.name)
        # -0.0 and 0 are fine
        _call(act, form, **{**_valid(act), p.name: -0.0})
        _call(act, form, **{**_valid(act), p.name: 0})


def test_lambd_is_nonnegative_for_both_shrinks():
    for name in ("hardshrink", "softshrink"):
        for suffix in ("", "_grad", "_grad2"):
            with pytest.raises(ValueError, match=f"{name}.*lambd"):
                getattr(ag, name + suffix)(X, lambd=-0.5)
        with pytest.raises(ValueError, match=f"{name}.*lambd"):
            getattr(ag, name + "_backward")(X, X, lambd=-0.5)


HARDTANH_BAD = {
    "floats": (2.0, 1.0),
    "ints": (2, 1),
    "numpy": (np.float32(0.5), np.float64(0.25)),
    "arrays": (np.array([0.0, 2.0, 0.0, 0.0, 0.0]), np.array([1.0, 1.0, 1.0, 1.0, 1.0])),
    "0d_arrays": (np.array(2.0), np.array(1.0)),
    "inf": (math.inf, 1.0),
    "mixed": (1.5, 1),
}


@pytest.mark.parametrize("bad", list(HARDTANH_BAD))
@pytest.mark.parametrize("form", FORM_IDS)
def test_hardtanh_min_val_greater_than_max_val(form, bad):
    lo, hi = HARDTANH_BAD[bad]
    with pytest.raises(ValueError) as info:
        _call(ACTS["hardtanh"], form, min_val=lo, max_val=hi)
    message = str(info.value)
    assert "hardtanh" in message and "min_val" in message and "max_val" in message, message


@pytest.mark.parametrize("form", FORM_IDS)
def test_hardtanh_accepts_equal_and_infinite_bounds(form):
    _call(ACTS["hardtanh"], form, min_val=0.5, max_val=0.5)
    # clip to (-inf, inf) is the identity, with f' = 1 everywhere finite
    f = getattr(ag, "hardtanh" + form.suffix)
    if form.kind == "f":
        np.testing.assert_array_equal(f(X, min_val=-math.inf, max_val=math.inf), X)
    elif form.kind == "grad":
        np.testing.assert_array_equal(f(X, min_val=-math.inf, max_val=math.inf), np.ones(5))


@pytest.mark.parametrize("form", FORM_IDS)
def test_threshold_parameters_are_required(form):
    fn = getattr(ag, "threshold" + form.suffix)
    arrays = (X, X) if form.kind == "backward" else (X,)
    for kwargs, missing in (({}, ("threshold", "value")), ({"threshold": 0.0}, ("value",)),
                            ({"value": 0.0}, ("threshold",))):
        with pytest.raises(TypeError) as info:
            fn(*arrays, **kwargs)
        message = str(info.value)
        assert "threshold" in message and all(m in message for m in missing), message


@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize("act", PARAMETERISED)
def test_unknown_keyword_raises_type_error(act, form):
    with pytest.raises(TypeError):
        _call(act, form, **_valid(act), slope=0.3)


@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize("act", PARAMETERISED)
def test_numeric_parameter_types_are_accepted(act, form):
    # int, numpy scalars and 0-d arrays are as good as a float (for the
    # numeric parameters; a selector's string or None is passed as it is).
    full = _valid(act)
    base = {p.name: full[p.name] for p in act.params
            if p.domain != "choice" and full[p.name] is not None}
    fixed = {k: v for k, v in full.items() if k not in base}

    def call(**params):
        return _call(act, form, **params, **fixed)

    expected = call(**base)
    for convert in (np.float64, np.float32, lambda v: np.array(v), lambda v: float(v)):
        params = {k: convert(v) for k, v in base.items()}
        if convert is np.float32:
            if any(float(np.float32(v)) != v for v in base.values()):
                continue
        np.testing.assert_array_equal(call(**params), expected)
    if all(float(v).is_integer() for v in base.values()):
        params = {k: int(v) for k, v in base.items()}
        np.testing.assert_array_equal(call(**params), expected)
        params = {k: np.int32(v) for k, v in base.items()}
        np.testing.assert_array_equal(call(**params), expected)


@pytest.mark.parametrize("form", FORM_IDS)
@pytest.mark.parametrize("act", PARAMETERISED)
def test_parameters_may_be_passed_positionally(act, form):
    base = _valid(act)
    fn = getattr(ag, act.function_name(form))
    arrays = (np.ones_like(X), X) if form.kind == "backward" else (X,)
    positional = [base[p.name] for p in act.params]
    np.testing.assert_array_equal(fn(*arrays, *positional), fn(*arrays, **base))
