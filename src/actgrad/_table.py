"""The activation table: the single source of truth for every activation.

Each :class:`Activation` entry names its C++ kernel, its parameters, its dtype
policy, its documentation and the facts the tests need (reference function,
kinks, tolerance).  The build-time generator turns the table into ufunc
registration code, ``actgrad._api`` turns it into the public Python functions,
and the test suite is parametrised over it.

This module imports nothing outside the standard library, so that the build
can read it before the extension exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """A keyword parameter, passed to the ufunc as an extra float64 input."""

    name: str
    default: object = REQUIRED
    #: "real": any real number but NaN (+-inf included); "finite": a finite
    #: real number; "nonnegative": a finite real number >= 0; "positive": a
    #: finite real number > 0; "any": any real number, NaN included;
    #: "choice": one of `choices` (a string that selects a variant);
    #: "optional": None or a real number (None selects a variant).
    #: A parameter that is only a limit (a slope or scale of inf, a dead zone
    #: of inf) is not a real number the function can take: the finite
    #: domains reject inf, so that inf * 0 never makes a NaN.  Every
    #: parameter is rounded to the compute type (float for float32 and
    #: float16); the kernels take the limits where that makes it inf or 0.
    domain: str = "real"
    doc: str = ""
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Form:
    """One of the four functions every activation provides."""

    suffix: str
    kind: str  # the C++ FormKind
    arrays: tuple[str, ...]
    title: str


FORMS = (
    Form("", "f", ("x",), "{summary}"),
    Form("_grad", "grad", ("x",), "First derivative of `{name}`, elementwise."),
    Form("_grad2", "grad2", ("x",), "Second derivative of `{name}`, elementwise."),
    Form(
        "_backward",
        "backward",
        ("grad_output", "x"),
        "Backward pass of `{name}`: ``grad_output * {name}_grad(x)`` in one pass.",
    ),
)


#: Variant key that matches any real number of an "optional" parameter.
REAL = "<real>"


@dataclass(frozen=True)
class Variant:
    """One ufunc of an activation whose selector parameter picks the kernel.

    The public function calls the variant whose `key` matches the value of
    the selector parameter (a string of a "choice" parameter, or None or
    REAL for an "optional" one) and passes it the numeric parameters named
    in `params`, in that order.
    """

    key: object
    suffix: str  # the ufunc's name is the activation's name + suffix
    kernel: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class Activation:
    name: str
    header: str
    summary: str
    formula: str
    derivative: str
    second_derivative: str
    kinks: str
    #: doctest outputs, keyed by form suffix, for the inputs in EXAMPLE_SETUP
    examples: dict
    params: tuple[Param, ...] = ()
    #: relu and relu6 are exact on integers and keep the integer dtype
    keeps_integers: bool = False
    #: cross-parameter rule, as (predicate over the parameters, message)
    constraint: tuple[Callable[..., bool], str] | None = None
    #: points where f is not differentiable, as a function of the parameters
    kink_points: Callable[..., tuple[float, ...]] = lambda **p: ()
    #: parameter sets the tests sweep, besides the defaults
    test_params: tuple[dict, ...] = ()
    #: the torch.nn.functional function with the same semantics
    torch_name: str = ""
    #: accuracy bound in ulp for float32/float64 (0: exact)
    tolerance_ulp: float = 0.0
    kernel: str = ""
    references: tuple[str, ...] = ()
    #: the function's values at -inf and +inf, for the docstring
    limits: str = ""
    #: the parameter whose value picks the ufunc, and the ufuncs it picks
    selector: str = ""
    variants: tuple[Variant, ...] = ()

    @property
    def kernel_struct(self) -> str:
        return self.kernel or self.name

    def ufunc_variants(self) -> tuple[Variant, ...]:
        """The ufuncs behind this activation (one unless it has a selector)."""
        if self.variants:
            return self.variants
        return (Variant(None, "", self.kernel_struct, tuple(p.name for p in self.params)),)

    def variant_for(self, values: dict) -> Variant:
        """The variant that the parameter values select."""
        if not self.selector:
            return self.ufunc_variants()[0]
        value = values[self.selector]
        for v in self.variants:
            if v.key == value if v.key is not REAL else value is not None:
                return v
        raise ValueError(f"{self.name}: no variant for {self.selector}={value!r}")

    def function_name(self, form: Form) -> str:
        return self.name + form.suffix

    def default_params(self) -> dict:
        return {p.name: p.default for p in self.params if not p.required}

    def check_params(self, values: dict, func: str = "") -> None:
        """Raise TypeError/ValueError for parameters outside their domain;
        the messages name `func` (the public function), or the activation."""
        func = func or self.name
        for p in self.params:
            _check_param(func, p, values[p.name])
        if self.constraint is not None:
            predicate, message = self.constraint
            scalars = all(type(values[p.name]) in (int, float) for p in self.params)
            if scalars:
                holds = predicate(**values)
            else:  # arrays and sequences: elementwise, as they broadcast
                import numpy as np

                try:
                    holds = bool(np.all(predicate(**{k: np.asarray(v, dtype=np.float64)
                                                     for k, v in values.items()})))
                except ValueError:
                    raise ValueError(f"{func}: the parameters do not broadcast together, got "
                                     + _describe(values)) from None
            if not holds:
                raise ValueError(f"{func}: {message}, got " + _describe(values))

    def docstring(self, form: Form) -> str:
        return _render_docstring(self, form)


def _describe(values: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


def _check_param(func: str, p: Param, value) -> None:
    if p.domain == "choice":
        if not isinstance(value, str) or value not in p.choices:
            raise ValueError(f"{func}: {p.name} must be one of "
                             + ", ".join(repr(c) for c in p.choices) + f", got {value!r}")
        return
    if p.domain == "optional":
        if value is None:
            return
        p = Param(p.name, p.default, "real", p.doc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            value = float(value)
        except OverflowError:  # an int beyond float64 (10**400): passed as float64
            raise ValueError(f"{func}: {p.name} is outside the float64 range, got an "
                             f"integer of {value.bit_length()} bits") from None
        if p.domain != "any" and math.isnan(value):
            raise ValueError(f"{func}: {p.name} must not be NaN")
        if p.domain == "finite" and not math.isfinite(value):
            raise ValueError(f"{func}: {p.name} must be finite, got {value!r}")
        if p.domain == "nonnegative" and not 0 <= value < math.inf:
            raise ValueError(f"{func}: {p.name} must be finite and >= 0, got {value!r}")
        if p.domain == "positive" and not 0 < value < math.inf:
            raise ValueError(f"{func}: {p.name} must be finite and > 0, got {value!r}")
        return
    _check_param_array(func, p, value)


def _check_param_array(func: str, p: Param, value) -> None:
    # numpy scalars, arrays and sequences broadcast against x.  numpy is
    # imported here, not at module level: the build reads this file.
    import numpy as np

    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{func}: {p.name} must be a real number or an array of real numbers, "
            f"got {value!r} of type {type(value).__name__}"
        )
    if p.domain != "any" and np.isnan(arr).any():
        raise ValueError(f"{func}: {p.name} must not be NaN")
    if p.domain == "finite" and not np.isfinite(arr).all():
        raise ValueError(f"{func}: {p.name} must be finite, got {value!r}")
    if p.domain == "nonnegative" and not ((arr >= 0) & np.isfinite(arr)).all():
        raise ValueError(f"{func}: {p.name} must be finite and >= 0, got {value!r}")
    if p.domain == "positive" and not ((arr > 0) & np.isfinite(arr)).all():
        raise ValueError(f"{func}: {p.name} must be finite and > 0, got {value!r}")


EXAMPLE_SETUP = (
    ">>> import numpy as np\n"
    ">>> import actgrad as ag\n"
    ">>> x = np.array([-8.0, -1.0, 0.0, 0.25, 3.0, 7.0])\n"
    ">>> g = np.full(6, 10.0)\n"
)


def _signature(act: Activation, form: Form) -> str:
    args = list(form.arrays)
    for p in act.params:
        args.append(p.name if p.required else f"{p.name}={p.default!r}")
    return f"{act.function_name(form)}({', '.join(args)}, **ufunc_kwargs)"


def _render_docstring(act: Activation, form: Form) -> str:
    name = act.name
    lines = [form.title.format(name=name, summary=act.summary), ""]
    lines += [f"    f(x)   = {act.formula}", f"    f'(x)  = {act.derivative}",
              f"    f''(x) = {act.second_derivative}", ""]
    if form.kind == "backward":
        lines += [
            "Where f'(x) is 0 the result is 0, even for an inf or NaN `grad_output`;",
            "everywhere else it equals ``grad_output * f'(x)`` to the last bit.",
            "",
        ]
    lines += ["Conventions: " + act.kinks + " The second derivative takes the same",
              "branch as the first at every kink. NaN in `x` gives NaN.", ""]
    if act.limits:
        lines += ["Limits: " + act.limits, ""]
    lines += ["Parameters", "----------"]
    if form.kind == "backward":
        lines += ["grad_output : array_like", "    Gradient of the loss with respect to f(x)."]
    lines += ["x : array_like", "    Input; integer and bool inputs "
              + ("keep their dtype in `f`." if act.keeps_integers and form.kind == "f"
                 else "are computed in float64.")]
    for p in act.params:
        default = "required" if p.required else f"default {p.default!r}"
        kind = {"choice": "{" + ", ".join(repr(c) for c in p.choices) + "}",
                "optional": "None or float"}.get(p.domain, "float or array_like")
        lines += [f"{p.name} : {kind}, {default}", f"    {p.doc}"]
    lines += ["**ufunc_kwargs", "    ``out``, ``where``, ``dtype``, ``casting``, ``order`` as for any ufunc.",
              "", "Returns", "-------", "ndarray",
              "    Same dtype as the input (float16 is computed in float32).", ""]
    if act.references:
        lines += ["References", "----------"] + [f".. [{i + 1}] {r}" for i, r in enumerate(act.references)] + [""]
    lines += ["Examples", "--------"]
    call_args = ", ".join(("g" if a == "grad_output" else a) for a in form.arrays)
    extra = ", ".join(f"{k}={v!r}" for k, v in act.examples.get("params", {}).items())
    call = f"ag.{act.function_name(form)}({call_args}{', ' + extra if extra else ''})"
    lines += EXAMPLE_SETUP.rstrip("\n").split("\n")
    lines += [">>> " + call, act.examples[form.suffix]]
    return "\n".join(lines) + "\n"


def _pl(name, **kw):
    """An entry of the piecewise-linear family (exact, second derivative 0)."""
    return Activation(name=name, header="piecewise_linear.hpp", second_derivative="0",
                      tolerance_ulp=0.0, torch_name=name, **kw)


def _smooth(name, **kw):
    """An entry of the smooth family: accurate to 4 ulp against mpmath."""
    kw.setdefault("torch_name", name)
    return Activation(name=name, header=kw.pop("header", "logistic.hpp"),
                      tolerance_ulp=4.0, **kw)


_LAMBD = Param("lambd", 0.5, "nonnegative",
               "Half-width of the dead zone [-lambd, lambd]; finite and >= 0.")

ACTIVATIONS: tuple[Activation, ...] = (
    _pl(
        "relu",
        summary="Rectified linear unit, elementwise.",
        formula="max(x, 0)",
        derivative="1 if x > 0 else 0",
        kinks="f'(0) = 0, as in PyTorch; f(-0.0) = +0.0.",
        keeps_integers=True,
        kink_points=lambda: (0.0,),
        examples={
            "": "array([0.  , 0.  , 0.  , 0.25, 3.  , 7.  ])",
            "_grad": "array([0., 0., 0., 1., 1., 1.])",
            "_grad2": "array([0., 0., 0., 0., 0., 0.])",
            "_backward": "array([ 0.,  0.,  0., 10., 10., 10.])",
        },
    ),
    _pl(
        "relu6",
        summary="ReLU capped at 6, elementwise.",
        formula="min(max(x, 0), 6)",
        derivative="1 if 0 < x < 6 else 0",
        kinks="f'(0) = f'(6) = 0, as in PyTorch.",
        keeps_integers=True,
        kink_points=lambda: (0.0, 6.0),
        examples={
            "": "array([0.  , 0.  , 0.  , 0.25, 3.  , 6.  ])",
            "_grad": "array([0., 0., 0., 1., 1., 0.])",
            "_grad2": "array([0., 0., 0., 0., 0., 0.])",
            "_backward": "array([ 0.,  0.,  0., 10., 10.,  0.])",
        },
    ),
    _pl(
        "leaky_relu",
        summary="Leaky rectified linear unit, elementwise.",
        formula="x if x > 0 else negative_slope * x",
        derivative="1 if x > 0 else negative_slope",
        kinks="f'(0) = negative_slope, as in PyTorch.",
        params=(Param("negative_slope", 0.01, "finite", "Slope for x <= 0; finite."),),
        kink_points=lambda negative_slope: (0.0,),
        test_params=({"negative_slope": 0.2}, {"negative_slope": 0.0}, {"negative_slope": -1.5}),
        examples={
            "params": {"negative_slope": 0.5},
            "": "array([-4.  , -0.5 ,  0.  ,  0.25,  3.  ,  7.  ])",
            "_grad": "array([0.5, 0.5, 0.5, 1. , 1. , 1. ])",
            "_grad2": "array([0., 0., 0., 0., 0., 0.])",
            "_backward": "array([ 5.,  5.,  5., 10., 10., 10.])",
        },
    ),
    _pl(
        "hardtanh",
        summary="Hard tanh: clip to [min_val, max_val], elementwise.",
        formula="min(max(x, min_val), max_val)",
        derivative="1 if min_val < x < max_val else 0",
        kinks="f'(min_val) = f'(max_val) = 0, as in PyTorch.",
        params=(Param("min_val", -1.0, "real", "Lower clip value."),
                Param("max_val", 1.0, "real", "Upper clip value.")),
        constraint=(lambda min_val, max_val: min_val <= max_val,
                    "min_val must not be greater than max_val"),
        kink_points=lambda min_val, max_val: (min_val, max_val),
        test_params=({"min_val": -2.0, "max_val": 3.0}, {"min_val": 0.5, "max_val": 0.5}),
        examples={
            "": "array([-1.  , -1.  ,  0.  ,  0.25,  1.  ,  1.  ])",
            "_grad": "array([0., 0., 1., 1., 0., 0.])",
            "_grad2": "array([0., 0., 0., 0., 0., 0.])",
            "_backward": "array([ 0.,  0., 10., 10.,  0.,  0.])",
        },
    ),
    _pl(
        "threshold",
        summary="Threshold: keep x above `threshold`, else `value`, elementwise.",
        formula="x if x > threshold else value",
        derivative="1 if x > threshold else 0",
        kinks="f'(threshold) = 0, as in PyTorch.",
        params=(Param("threshold", domain="finite", doc="Values at or below it are replaced; finite."),
                Param("value", domain="any", doc="The replacement value.")),
        kink_points=lambda threshold, value: (threshold,),
        test_params=({"threshold": 0.0, "value": 0.0}, {"threshold": 1.0, "value": -3.0},
                     {"threshold": -0.5, "value": 20.0}),
        examples={
            "params": {"threshold": 0.25, "value": -5.0},
            "": "array([-5., -5., -5., -5.,  3.,  7.])",
            "_grad": "array([0., 0., 0., 0., 1., 1.])",
            "_grad2": "array([0., 0., 0., 0., 0., 0.])",
            "_backward": "array([ 0.,  0.,  0.,  0., 10., 10.])",
        },
    ),
    _pl(
        "hardshrink",
        summary="Hard shrinkage: zero inside [-lambd, lambd], elementwise.",
        formula="x if abs(x) > lambd else 0",
        derivative="1 if abs(x) > lambd else 0",
        kinks="f'(-lambd) = f'(lambd) = 0, as in PyTorch.",
        params=(_LAMBD,),
        kink_points=lambda lambd: (-lambd, lambd),
        test_params=({"lambd": 0.25}, {"lambd": 0.0}, {"lambd": 3.0}),
        examples={
            "": "array([-8., -1.,  0.,  0.,  3.,  7.])",
            "_grad": "array([1., 1., 0., 0., 1., 1.])",
            "_grad2": "array([0., 0., 0., 0., 0., 0.])",
            "_backward": "array([10., 10.,  0.,  0., 10., 10.])",
        },
    ),
    _pl(
        "softshrink",
        summary="Soft shrinkage: move x towards 0 by lambd, elementwise.",
        formula="x - lambd if x > lambd, x + lambd if x < -lambd, else 0",
        derivative="1 if abs(x) > lambd else 0",
        kinks="f'(-lambd) = f'(lambd) = 0, as in PyTorch.",
        params=(_LAMBD,),
        kink_points=lambda lambd: (-lambd, lambd),
        test_params=({"lambd": 0.25}, {"lambd": 0.0}, {"lambd": 3.0}),
        examples={
            "": "array([-7.5, -0.5,  0. ,  0. ,  2.5,  6.5])",
            "_grad": "array([1., 1., 0., 0., 1., 1.])",
            "_grad2": "array([0., 0., 0., 0., 0., 0.])",
            "_backward": "array([10., 10.,  0.,  0., 10., 10.])",
        },
    ),
    _smooth(
        "sigmoid",
        summary="Logistic sigmoid, elementwise.",
        formula="1 / (1 + exp(-x))",
        derivative="sigmoid(x) * sigmoid(-x)  (not s * (1 - s), which is 0 from x ~ 37)",
        second_derivative="sigmoid'(x) * (1 - 2 sigmoid(x)) = -sigmoid'(x) tanh(x/2)",
        kinks="none (smooth everywhere).",
        limits="f(-inf) = 0, f(+inf) = 1; f', f'' are 0 at +-inf and underflow gradually "
               "(sigmoid_grad(-1e4) == 0, no overflow).",
        examples={
            "": "array([3.35350130e-04, 2.68941421e-01, 5.00000000e-01, 5.62176501e-01,\n       9.52574127e-01, 9.99088949e-01])",
            "_grad": "array([0.00033524, 0.19661193, 0.25      , 0.24613408, 0.04517666,\n       0.00091022])",
            "_grad2": "array([ 0.00033501,  0.09085775,  0.        , -0.03060751, -0.04089157,\n       -0.00090856])",
            "_backward": "array([0.00335238, 1.96611933, 2.5       , 2.46134083, 0.4517666 ,\n       0.00910221])",
        },
    ),
    _smooth(
        "logsigmoid",
        summary="Log of the logistic sigmoid, elementwise.",
        formula="log(sigmoid(x)) = -softplus(-x) = min(x, 0) - log1p(exp(-abs(x)))",
        derivative="sigmoid(-x)",
        second_derivative="-sigmoid'(x)",
        kinks="none (smooth everywhere).",
        limits="f(-inf) = -inf (f(x) == x below about -37, so logsigmoid(-1e4) == -1e4), "
               "f(+inf) = 0; f'(-inf) = 1, f'(+inf) = 0; f'' is 0 at +-inf.",
        torch_name="logsigmoid",
        examples={
            "": "array([-8.00033541e+00, -1.31326169e+00, -6.93147181e-01, -5.75939420e-01,\n       -4.85873516e-02, -9.11466454e-04])",
            "_grad": "array([9.99664650e-01, 7.31058579e-01, 5.00000000e-01, 4.37823499e-01,\n       4.74258732e-02, 9.11051194e-04])",
            "_grad2": "array([-0.00033524, -0.19661193, -0.25      , -0.24613408, -0.04517666,\n       -0.00091022])",
            "_backward": "array([9.99664650e+00, 7.31058579e+00, 5.00000000e+00, 4.37823499e+00,\n       4.74258732e-01, 9.11051194e-03])",
        },
    ),
    _smooth(
        "tanh",
        summary="Hyperbolic tangent, elementwise.",
        formula="tanh(x)",
        derivative="1 - tanh(x)**2, computed as 4 e / (1 + e)**2 with e = exp(-2 abs(x))",
        second_derivative="-2 tanh(x) tanh'(x)",
        kinks="none (smooth everywhere); tanh(-0.0) = -0.0.",
        limits="f(+-inf) = +-1; f' and f'' are 0 at +-inf.",
        examples={
            "": "array([-0.99999977, -0.76159416,  0.        ,  0.24491866,  0.99505475,\n        0.99999834])",
            "_grad": "array([4.50140598e-07, 4.19974342e-01, 1.00000000e+00, 9.40014849e-01,\n       9.86603717e-03, 3.32610934e-06])",
            "_grad2": "array([ 9.00280993e-07,  6.39700008e-01,  0.00000000e+00, -4.60454359e-01,\n       -1.96344944e-02, -6.65220763e-06])",
            "_backward": "array([4.50140598e-06, 4.19974342e+00, 1.00000000e+01, 9.40014849e+00,\n       9.86603717e-02, 3.32610934e-05])",
        },
    ),
    _smooth(
        "silu",
        summary="Sigmoid-weighted linear unit (swish), elementwise.",
        formula="x * sigmoid(x)",
        derivative="sigmoid(x) * (1 + x * sigmoid(-x))",
        second_derivative="sigmoid'(x) * (2 - x tanh(x/2))",
        kinks="none (smooth everywhere).",
        limits="f(-inf) = 0, f(+inf) = +inf; f'(-inf) = 0, f'(+inf) = 1; f''(+-inf) = 0 "
               "(PyTorch and JAX give NaN at +-inf).",
        examples={
            "": "array([-2.68280104e-03, -2.68941421e-01,  0.00000000e+00,  1.40544125e-01,\n        2.85772238e+00,  6.99362264e+00])",
            "_grad": "array([-0.00234655,  0.07232949,  0.5       ,  0.62371002,  1.08810411,\n        1.0054605 ])",
            "_grad2": "array([-0.00200963,  0.30236612,  0.5       ,  0.48461629, -0.0323214 ,\n       -0.0045395 ])",
            "_backward": "array([-0.02346551,  0.72329488,  5.        ,  6.23710022, 10.88104106,\n       10.05460497])",
        },
    ),
    _smooth(
        "elu",
        header="exp_linear.hpp",
        summary="Exponential linear unit, elementwise.",
        formula="x if x > 0 else alpha * (exp(x) - 1)",
        derivative="1 if x > 0 else alpha * exp(x)",
        second_derivative="0 if x > 0 else alpha * exp(x)",
        kinks="f'(0) = alpha, the left branch, as PyTorch's elu_backward; f''(0) = alpha "
              "(PyTorch's double backward gives 0).",
        limits="f(-inf) = -alpha, f(+inf) = +inf; f'(-inf) = 0, f'(+inf) = 1; f''(+-inf) = 0.",
        params=(Param("alpha", 1.0, "finite", "Finite; f(-inf) = -alpha."),),
        kink_points=lambda alpha: (0.0,),
        test_params=({"alpha": 0.3}, {"alpha": 2.0}),
        examples={
            "": "array([-0.99966454, -0.63212056,  0.        ,  0.25      ,  3.        ,\n        7.        ])",
            "_grad": "array([3.35462628e-04, 3.67879441e-01, 1.00000000e+00, 1.00000000e+00,\n       1.00000000e+00, 1.00000000e+00])",
            "_grad2": "array([3.35462628e-04, 3.67879441e-01, 1.00000000e+00, 0.00000000e+00,\n       0.00000000e+00, 0.00000000e+00])",
            "_backward": "array([3.35462628e-03, 3.67879441e+00, 1.00000000e+01, 1.00000000e+01,\n       1.00000000e+01, 1.00000000e+01])",
        },
    ),
    _smooth(
        "selu",
        header="exp_linear.hpp",
        summary="Scaled exponential linear unit, elementwise.",
        formula="scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha = 1.6732632423543772, "
                "scale = 1.0507009873554805",
        derivative="scale if x > 0 else scale * alpha * exp(x)",
        second_derivative="0 if x > 0 else scale * alpha * exp(x)",
        kinks="f'(0) = scale * alpha (the left branch, as PyTorch); f''(0) = scale * alpha.",
        limits="f(-inf) = -scale * alpha, f(+inf) = +inf; f'(-inf) = 0, f'(+inf) = scale; "
               "f''(+-inf) = 0.",
        kink_points=lambda: (0.0,),
        examples={
            "": "array([-1.75750956, -1.11133074,  0.        ,  0.26267525,  3.15210296,\n        7.35490691])",
            "_grad": "array([5.89776625e-04, 6.46768603e-01, 1.75809934e+00, 1.05070099e+00,\n       1.05070099e+00, 1.05070099e+00])",
            "_grad2": "array([5.89776625e-04, 6.46768603e-01, 1.75809934e+00, 0.00000000e+00,\n       0.00000000e+00, 0.00000000e+00])",
            "_backward": "array([5.89776625e-03, 6.46768603e+00, 1.75809934e+01, 1.05070099e+01,\n       1.05070099e+01, 1.05070099e+01])",
        },
    ),
    _smooth(
        "celu",
        header="exp_linear.hpp",
        summary="Continuously differentiable exponential linear unit, elementwise.",
        formula="max(0, x) + min(0, alpha * (exp(x / alpha) - 1))",
        derivative="1 if x > 0 else exp(x / alpha)",
        second_derivative="0 if x > 0 else exp(x / alpha) / alpha",
        kinks="f'(0) = 1 from either side; f''(0) = 1/alpha, the left branch "
              "(PyTorch's double backward gives 0).",
        limits="f(-inf) = -alpha, f(+inf) = +inf; f'(-inf) = 0, f'(+inf) = 1; f''(+-inf) = 0.",
        params=(Param("alpha", 1.0, "positive", "Finite and > 0; f(-inf) = -alpha."),),
        kink_points=lambda alpha: (0.0,),
        test_params=({"alpha": 3.0}, {"alpha": 0.5}),
        examples={
            "": "array([-0.99966454, -0.63212056,  0.        ,  0.25      ,  3.        ,\n        7.        ])",
            "_grad": "array([3.35462628e-04, 3.67879441e-01, 1.00000000e+00, 1.00000000e+00,\n       1.00000000e+00, 1.00000000e+00])",
            "_grad2": "array([3.35462628e-04, 3.67879441e-01, 1.00000000e+00, 0.00000000e+00,\n       0.00000000e+00, 0.00000000e+00])",
            "_backward": "array([3.35462628e-03, 3.67879441e+00, 1.00000000e+01, 1.00000000e+01,\n       1.00000000e+01, 1.00000000e+01])",
        },
    ),
    _smooth(
        "hardsigmoid",
        header="rational.hpp",
        summary="Hard sigmoid, a piecewise-linear sigmoid, elementwise.",
        formula="min(max(x + 3, 0), 6) / 6",
        derivative="1/6 if -3 < x < 3 else 0",
        second_derivative="0",
        kinks="f'(-3) = f'(3) = 0, as in PyTorch.",
        limits="f(-inf) = 0, f(+inf) = 1; f' and f'' are 0 at +-inf.",
        kink_points=lambda: (-3.0, 3.0),
        examples={
            "": "array([0.        , 0.33333333, 0.5       , 0.54166667, 1.        ,\n       1.        ])",
            "_grad": "array([0.        , 0.16666667, 0.16666667, 0.16666667, 0.        ,\n       0.        ])",
            "_grad2": "array([0., 0., 0., 0., 0., 0.])",
            "_backward": "array([0.        , 1.66666667, 1.66666667, 1.66666667, 0.        ,\n       0.        ])",
        },
    ),
    _smooth(
        "hardswish",
        header="rational.hpp",
        summary="Hard swish, x * hardsigmoid(x), elementwise.",
        formula="x * min(max(x + 3, 0), 6) / 6",
        derivative="0 if x <= -3, (2x + 3) / 6 if -3 < x < 3, 1 if x >= 3",
        second_derivative="1/3 if -3 < x < 3 else 0",
        kinks="f'(-3) = 0 and f'(3) = 1, as in PyTorch 2.13.",
        limits="f(-inf) = 0, f(+inf) = +inf; f'(-inf) = 0, f'(+inf) = 1; f''(+-inf) = 0.",
        kink_points=lambda: (-3.0, 3.0),
        examples={
            "": "array([ 0.        , -0.33333333,  0.        ,  0.13541667,  3.        ,\n        7.        ])",
            "_grad": "array([0.        , 0.16666667, 0.5       , 0.58333333, 1.        ,\n       1.        ])",
            "_grad2": "array([0.        , 0.33333333, 0.33333333, 0.33333333, 0.        ,\n       0.        ])",
            "_backward": "array([ 0.        ,  1.66666667,  5.        ,  5.83333333, 10.        ,\n       10.        ])",
        },
    ),
    _smooth(
        "softsign",
        header="rational.hpp",
        summary="Softsign, x / (1 + |x|), elementwise.",
        formula="x / (1 + abs(x))",
        derivative="1 / (1 + abs(x))**2",
        second_derivative="-2 sign(x) / (1 + abs(x))**3",
        kinks="f' is smooth; f'' jumps from 2 to -2 at 0, where it is 0 (as PyTorch's "
              "double backward).",
        limits="f(+-inf) = +-1 (PyTorch, JAX: NaN); f' and f'' are 0 at +-inf.",
        kink_points=lambda: (0.0,),
        examples={
            "": "array([-0.88888889, -0.5       ,  0.        ,  0.2       ,  0.75      ,\n        0.875     ])",
            "_grad": "array([0.01234568, 0.25      , 1.        , 0.64      , 0.0625    ,\n       0.015625  ])",
            "_grad2": "array([ 0.00274348,  0.25      ,  0.        , -1.024     , -0.03125   ,\n       -0.00390625])",
            "_backward": "array([ 0.12345679,  2.5       , 10.        ,  6.4       ,  0.625     ,\n        0.15625   ])",
        },
    ),
    _smooth(
        "tanhshrink",
        summary="Tanhshrink, x - tanh(x), elementwise.",
        formula="x - tanh(x)",
        derivative="tanh(x)**2",
        second_derivative="2 tanh(x) (1 - tanh(x)**2)",
        kinks="none (smooth everywhere); near 0, f = x**3/3 to full relative precision.",
        limits="f(+-inf) = +-inf; f'(+-inf) = 1; f''(+-inf) = 0.",
        examples={
            "": "array([-7.00000023e+00, -2.38405844e-01,  0.00000000e+00,  5.08133760e-03,\n        2.00494525e+00,  6.00000166e+00])",
            "_grad": "array([0.99999955, 0.58002566, 0.        , 0.05998515, 0.99013396,\n       0.99999667])",
            "_grad2": "array([-9.00280993e-07, -6.39700008e-01,  0.00000000e+00,  4.60454359e-01,\n        1.96344944e-02,  6.65220763e-06])",
            "_backward": "array([9.9999955 , 5.80025658, 0.        , 0.59985151, 9.90133963,\n       9.99996674])",
        },
    ),
    Activation(
        name="gelu",
        header="gelu.hpp",
        summary="Gaussian error linear unit, elementwise.",
        formula="x * Phi(x), Phi the standard normal CDF; approximate='tanh': "
                "x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x**3)))",
        derivative="Phi(x) + x * phi(x), phi the standard normal density (or the "
                   "derivative of the tanh form)",
        second_derivative="phi(x) * (2 - x**2) (or that of the tanh form)",
        kinks="none (smooth everywhere). approximate='none' (the default) is exact; "
              "'tanh' is PyTorch's approximation, computed exactly as that formula.",
        limits="f(-inf) = 0, f(+inf) = +inf; f'(-inf) = 0, f'(+inf) = 1; f''(+-inf) = 0 "
               "(PyTorch and JAX give NaN at +-inf).",
        params=(Param("approximate", "none", "choice",
                      "'none' for x Phi(x), 'tanh' for PyTorch's tanh approximation.",
                      choices=("none", "tanh")),),
        selector="approximate",
        variants=(Variant("none", "", "gelu"), Variant("tanh", "_tanh", "gelu_tanh")),
        test_params=({"approximate": "tanh"},),
        torch_name="gelu",
        tolerance_ulp=4.0,
        examples={
            "": "array([-4.97676846e-15, -1.58655254e-01,  0.00000000e+00,  1.49676581e-01,\n        2.99595031e+00,  7.00000000e+00])",
            "_grad": "array([-3.97960726e-14, -8.33154706e-02,  5.00000000e-01,  6.95373355e-01,\n        1.01194565e+00,  1.00000000e+00])",
            "_grad2": "array([-3.13240807e-13,  2.41970725e-01,  7.97884561e-01,  7.49169476e-01,\n       -3.10229389e-02, -4.29331859e-10])",
            "_backward": "array([-3.97960726e-13, -8.33154706e-01,  5.00000000e+00,  6.95373355e+00,\n        1.01194565e+01,  1.00000000e+01])",
        },
    ),
    _smooth(
        "mish",
        header="mish.hpp",
        summary="Mish, x * tanh(softplus(x)), elementwise.",
        formula="x * tanh(log(1 + exp(x)))",
        derivative="tanh(sp) + x * sech(sp)**2 * sigmoid(x), sp = softplus(x)",
        second_derivative="2 sech(sp)**2 sigmoid(x) + x sech(sp)**2 (sigmoid'(x) "
                          "- 2 tanh(sp) sigmoid(x)**2)",
        kinks="none (smooth everywhere).",
        limits="f(-inf) = 0, f(+inf) = +inf (mish(1e4) == 1e4); f'(-inf) = 0, f'(+inf) = 1; "
               "f''(+-inf) = 0 (PyTorch and JAX give NaN at +-inf).",
        examples={
            "": "array([-2.68325088e-03, -3.03401461e-01,  0.00000000e+00,  1.69572410e-01,\n        2.98653500e+00,  6.99998838e+00])",
            "_grad": "array([-0.00234739,  0.05921676,  0.6       ,  0.75417267,  1.02110691,\n        1.00002156])",
            "_grad2": "array([-2.01120028e-03,  3.49705674e-01,  6.40000000e-01,  5.82416401e-01,\n       -3.02664966e-02, -3.97407838e-05])",
            "_backward": "array([-0.02347394,  0.59216756,  6.        ,  7.54172668, 10.21106911,\n       10.00021559])",
        },
    ),
    Activation(
        name="softplus",
        header="logistic.hpp",
        summary="Softplus, a smooth ReLU, elementwise.",
        formula="log(1 + exp(beta x)) / beta; with a threshold, x where beta x > threshold",
        derivative="sigmoid(beta x); with a threshold, 1 where beta x > threshold",
        second_derivative="beta sigmoid'(beta x); with a threshold, 0 where beta x > threshold",
        kinks="threshold=None (the default) is the smooth function everywhere, computed "
              "exactly (softplus(1e4) == 1e4). With a number, the linear switch of PyTorch: "
              "where beta * x (rounded in the input's precision) exceeds it, f = x, f' = 1 "
              "and f'' = 0 bit for bit as in PyTorch; elsewhere the exact function.",
        limits="f(-inf) = 0, f(+inf) = +inf; f'(-inf) = 0, f'(+inf) = 1; f''(+-inf) = 0.",
        params=(Param("beta", 1.0, "positive", "Sharpness; finite and > 0."),
                Param("threshold", None, "optional",
                      "None for the exact function, or PyTorch's switch to the identity "
                      "where beta * x > threshold (PyTorch's default is 20).")),
        selector="threshold",
        # the linear switch makes f jump (by about exp(-threshold)) at beta x = threshold
        kink_points=lambda beta, threshold=None: () if threshold is None else (threshold / beta,),
        variants=(Variant(None, "", "softplus", ("beta",)),
                  Variant(REAL, "_threshold", "softplus_threshold", ("beta", "threshold"))),
        test_params=({"beta": 2.0}, {"beta": 0.5}, {"beta": 1.0, "threshold": 20.0},
                     {"beta": 2.0, "threshold": 5.0}),
        torch_name="softplus",
        tolerance_ulp=4.0,
        examples={
            "": "array([3.35406373e-04, 3.13261688e-01, 6.93147181e-01, 8.25939420e-01,\n       3.04858735e+00, 7.00091147e+00])",
            "_grad": "array([3.35350130e-04, 2.68941421e-01, 5.00000000e-01, 5.62176501e-01,\n       9.52574127e-01, 9.99088949e-01])",
            "_grad2": "array([0.00033524, 0.19661193, 0.25      , 0.24613408, 0.04517666,\n       0.00091022])",
            "_backward": "array([3.35350130e-03, 2.68941421e+00, 5.00000000e+00, 5.62176501e+00,\n       9.52574127e+00, 9.99088949e+00])",
        },
    ),
    _smooth(
        "squareplus",
        header="squareplus.hpp",
        summary="Squareplus, a ReLU smoothed by a square root, elementwise.",
        formula="(x + sqrt(x**2 + b)) / 2, computed as b / (2 (sqrt(x**2 + b) - x)) for x < 0",
        derivative="(1 + x / sqrt(x**2 + b)) / 2",
        second_derivative="b / (2 (x**2 + b)**1.5)",
        kinks="none (smooth everywhere); f(0) = sqrt(b)/2, f'(0) = 1/2. No overflow of "
              "x**2 (squareplus(1e300) == 1e300) and no cancellation for x < 0 "
              "(squareplus(-1e300) == 1e-300; JAX's form gives 0, or inf where x**2 overflows).",
        limits="f(-inf) = 0, f(+inf) = +inf; f'(-inf) = 0, f'(+inf) = 1; f''(+-inf) = 0 "
               "(JAX gives NaN for f'(+inf)).",
        params=(Param("b", 4.0, "positive",
                      "Smoothness, finite and > 0 (JAX's default 4); f(0) = sqrt(b)/2."),),
        test_params=({"b": 1.0}, {"b": 0.01}, {"b": 1e6}),
        torch_name="",
        references=("J. T. Barron, Squareplus: A Softplus-Like Algebraic Rectifier, "
                    "arXiv:2112.11687, 2021.",),
        examples={
            "": "array([0.12310563, 0.61803399, 1.        , 1.13278222, 3.30277564,\n       7.14005494])",
            "_grad": "array([0.01492875, 0.2763932 , 0.5       , 0.56201737, 0.91602515,\n       0.98076197])",
            "_grad2": "array([0.0035667 , 0.17888544, 0.25      , 0.24425302, 0.04266925,\n       0.00518342])",
            "_backward": "array([0.1492875 , 2.76393202, 5.        , 5.62017367, 9.16025147,\n       9.80761974])",
        },
    ),
    _smooth(
        "sparse_plus",
        header="sparse.hpp",
        summary="Sparse plus, the piecewise-quadratic twin of softplus, elementwise.",
        formula="0 if x <= -1, (x + 1)**2 / 4 if -1 < x < 1, x if x >= 1",
        derivative="sparse_sigmoid(x) = 0 if x <= -1, (x + 1) / 2 if -1 < x < 1, 1 if x >= 1",
        second_derivative="1/2 if -1 < x < 1 else 0",
        kinks="f and f' are continuous; f'' jumps at -1 and 1, where it takes the outer "
              "branch: f''(-1) = f''(1) = 0, as JAX's double grad.",
        limits="f(-inf) = 0, f(+inf) = +inf; f'(-inf) = 0, f'(+inf) = 1; f''(+-inf) = 0.",
        kink_points=lambda: (-1.0, 1.0),
        torch_name="",
        references=("M. Blondel, A. F. T. Martins, V. Niculae, Learning with Fenchel-Young Losses, "
                    "JMLR 21, 2020, section 6.2.",),
        examples={
            "": "array([0.      , 0.      , 0.25    , 0.390625, 3.      , 7.      ])",
            "_grad": "array([0.   , 0.   , 0.5  , 0.625, 1.   , 1.   ])",
            "_grad2": "array([0. , 0. , 0.5, 0.5, 0. , 0. ])",
            "_backward": "array([ 0.  ,  0.  ,  5.  ,  6.25, 10.  , 10.  ])",
        },
    ),
    _smooth(
        "sparse_sigmoid",
        header="sparse.hpp",
        summary="Sparse sigmoid, the derivative of sparse_plus, elementwise.",
        formula="0 if x <= -1, (x + 1) / 2 if -1 < x < 1, 1 if x >= 1",
        derivative="1/2 if -1 < x < 1 else 0",
        second_derivative="0",
        kinks="f'(-1) = f'(1) = 0, the outer branch, so that sparse_sigmoid_grad equals "
              "sparse_plus_grad2 everywhere (JAX's jnp.clip gives 1/4 at the ties).",
        limits="f(-inf) = 0, f(+inf) = 1; f' and f'' are 0 at +-inf.",
        kink_points=lambda: (-1.0, 1.0),
        torch_name="",
        references=("M. Blondel, A. F. T. Martins, V. Niculae, Learning with Fenchel-Young Losses, "
                    "JMLR 21, 2020, section 6.2.",),
        examples={
            "": "array([0.   , 0.   , 0.5  , 0.625, 1.   , 1.   ])",
            "_grad": "array([0. , 0. , 0.5, 0.5, 0. , 0. ])",
            "_grad2": "array([0., 0., 0., 0., 0., 0.])",
            "_backward": "array([0., 0., 5., 5., 0., 0.])",
        },
    ),
)


@dataclass(frozen=True)
class ReferenceCase:
    """A function at fixed parameters, as sampled in tests/data/references.npz.

    `torch` and `jax` build the same function in those libraries (for the
    comparison columns of ``actgrad accuracy``); they receive the modules.
    """

    name: str
    ufunc: str
    params: dict
    torch: Callable | None = None
    jax: Callable | None = None


def _torch_softplus(beta, threshold=20.0):
    return lambda torch: (lambda t: torch.nn.functional.softplus(t, beta=beta, threshold=threshold))


def _jax_softplus(beta):
    return lambda jax, jnp: (lambda x: jax.nn.softplus(beta * x) / beta)


REFERENCE_CASES: tuple[ReferenceCase, ...] = (
    ReferenceCase("sigmoid", "sigmoid", {}, lambda torch: torch.sigmoid,
                  lambda jax, jnp: jax.nn.sigmoid),
    ReferenceCase("logsigmoid", "logsigmoid", {}, lambda torch: torch.nn.functional.logsigmoid,
                  lambda jax, jnp: jax.nn.log_sigmoid),
    ReferenceCase("tanh", "tanh", {}, lambda torch: torch.tanh, lambda jax, jnp: jnp.tanh),
    ReferenceCase("silu", "silu", {}, lambda torch: torch.nn.functional.silu,
                  lambda jax, jnp: jax.nn.silu),
    ReferenceCase("softplus", "softplus", {"beta": 1.0}, _torch_softplus(1.0),
                  _jax_softplus(1.0)),
    ReferenceCase("softplus_beta2", "softplus", {"beta": 2.0}, _torch_softplus(2.0),
                  _jax_softplus(2.0)),
    ReferenceCase("elu", "elu", {"alpha": 1.0}, lambda torch: torch.nn.functional.elu,
                  lambda jax, jnp: jax.nn.elu),
    ReferenceCase("elu_alpha0.3", "elu", {"alpha": 0.3},
                  lambda torch: (lambda t: torch.nn.functional.elu(t, alpha=0.3)),
                  lambda jax, jnp: (lambda x: jax.nn.elu(x, alpha=0.3))),
    ReferenceCase("selu", "selu", {}, lambda torch: torch.nn.functional.selu,
                  lambda jax, jnp: jax.nn.selu),
    ReferenceCase("celu", "celu", {"alpha": 1.0}, lambda torch: torch.nn.functional.celu,
                  lambda jax, jnp: jax.nn.celu),
    ReferenceCase("celu_alpha3", "celu", {"alpha": 3.0},
                  lambda torch: (lambda t: torch.nn.functional.celu(t, alpha=3.0)),
                  lambda jax, jnp: (lambda x: jax.nn.celu(x, alpha=3.0))),
    ReferenceCase("hardsigmoid", "hardsigmoid", {}, lambda torch: torch.nn.functional.hardsigmoid,
                  lambda jax, jnp: jax.nn.hard_sigmoid),
    ReferenceCase("hardswish", "hardswish", {}, lambda torch: torch.nn.functional.hardswish,
                  lambda jax, jnp: jax.nn.hard_swish),
    ReferenceCase("softsign", "softsign", {}, lambda torch: torch.nn.functional.softsign,
                  lambda jax, jnp: jax.nn.soft_sign),
    ReferenceCase("tanhshrink", "tanhshrink", {}, lambda torch: torch.nn.functional.tanhshrink,
                  lambda jax, jnp: (lambda x: x - jnp.tanh(x))),
    ReferenceCase("gelu", "gelu", {}, lambda torch: torch.nn.functional.gelu,
                  lambda jax, jnp: (lambda x: jax.nn.gelu(x, approximate=False))),
    ReferenceCase("gelu_tanh", "gelu_tanh", {},
                  lambda torch: (lambda t: torch.nn.functional.gelu(t, approximate="tanh")),
                  lambda jax, jnp: (lambda x: jax.nn.gelu(x, approximate=True))),
    ReferenceCase("mish", "mish", {}, lambda torch: torch.nn.functional.mish,
                  lambda jax, jnp: (lambda x: x * jnp.tanh(jax.nn.softplus(x)))),
    ReferenceCase("softplus_threshold", "softplus_threshold", {"beta": 1.0, "threshold": 20.0},
                  _torch_softplus(1.0, 20.0)),
    ReferenceCase("sparse_plus", "sparse_plus", {}, None, lambda jax, jnp: jax.nn.sparse_plus),
    ReferenceCase("sparse_sigmoid", "sparse_sigmoid", {}, None,
                  lambda jax, jnp: jax.nn.sparse_sigmoid),
    ReferenceCase("squareplus", "squareplus", {"b": 4.0}, None,
                  lambda jax, jnp: (lambda x: jax.nn.squareplus(x, 4.0))),
    ReferenceCase("squareplus_b0.01", "squareplus", {"b": 0.01}, None,
                  lambda jax, jnp: (lambda x: jax.nn.squareplus(x, 0.01))),
)


# ---------------------------------------------------------------------------
# Activations along an axis: softmax, log_softmax, glu (over one axis of x)
# and prelu (a learnable weight along axis 1).  They are generalized ufuncs
# (or, for prelu's forward and derivative, ufuncs of two arrays) behind thin
# functions that take ``axis=``; the forms differ from activation to
# activation, so each entry lists its own.


@dataclass(frozen=True)
class AxisForm:
    """One public function of an axis activation, and the ufunc behind it."""

    suffix: str
    kind: str  # the C++ AxisKind
    arrays: tuple[str, ...]
    #: the gufunc signature; "" for an elementwise ufunc
    signature: str
    title: str
    #: what the form computes, after the activation's formula and derivative
    computes: str
    returns: str
    #: how the raw ufunc in actgrad.ufuncs is called
    ufunc_usage: str


@dataclass(frozen=True)
class AxisActivation:
    name: str
    header: str
    #: how the public functions map their arguments onto the ufunc:
    #: "axis" (a gufunc over one axis), "halves" (a gufunc over the two halves
    #: of one axis), "channel" (a weight broadcast along axis 1)
    convention: str
    summary: str
    formula: str
    derivative: str
    #: edge conventions: masked rows, +-inf, NaN, kinks
    conventions: str
    forms: tuple[AxisForm, ...]
    #: doctest lines after EXAMPLE_SETUP's imports, shared by every form
    example_setup: str
    #: per form suffix: (call, output)
    examples: dict
    #: the torch.nn.functional function with the same semantics
    torch_name: str
    #: accuracy bound in ulp against mpmath, per form suffix, float32/float64
    tolerance_ulp: dict
    kernel: str = ""
    references: tuple[str, ...] = ()
    #: the value an absent (masked) entry of x takes, which gives it no
    #: weight in its row: -inf for softmax, +inf for softmin
    absent: float = -math.inf
    #: integer input always gives float64 (unlike relu's)
    keeps_integers = False

    @property
    def kernel_struct(self) -> str:
        return self.kernel or self.name

    def function_name(self, form: AxisForm) -> str:
        return self.name + form.suffix

    def docstring(self, form: AxisForm) -> str:
        return _render_axis_docstring(self, form)

    def ufunc_docstring(self, form: AxisForm) -> str:
        kind = f"Generalized ufunc with signature {form.signature}" if form.signature else "Ufunc"
        return (f"{kind} behind actgrad.{self.function_name(form)}: {form.ufunc_usage}\n\n"
                + self.docstring(form))


_AXIS_PARAM = {
    "axis": ["axis : int, default -1", "    The axis along which the rows run."],
    "halves": ["axis : int, default -1",
               "    The axis split into halves a (first) and b (second); its length",
               "    must be even (ValueError otherwise)."],
}

_ARRAY_DOC = {
    "x": ["x : array_like", "    Input; integer and bool inputs are computed in float64."],
    "grad_output": ["grad_output : array_like",
                    "    Gradient of the loss with respect to the function's output; it",
                    "    broadcasts against that output."],
    "weight": ["weight : array_like",
               "    The slopes for x <= 0: one element, or one per channel (x.shape[1]",
               "    elements, 1-D), as in PyTorch."],
}


def _render_axis_docstring(act: AxisActivation, form: AxisForm) -> str:
    name = act.name
    lines = [form.title.format(name=name, summary=act.summary), ""]
    lines += ["    " + line for line in (act.formula, act.derivative, *form.computes.split("\n"))
              if line]
    lines += ["", *act.conventions.split("\n"), ""]
    lines += ["Parameters", "----------"]
    for array in form.arrays:
        lines += _ARRAY_DOC[array]
    if act.convention in _AXIS_PARAM:
        lines += _AXIS_PARAM[act.convention]
        lines += ["out : ndarray, optional",
                  "    Where to put the result; its shape must be the result's, and the",
                  "    result must cast to its dtype (``casting='same_kind'``)."]
    if form.kind != "backward" or act.convention != "channel":
        lines += ["**ufunc_kwargs",
                  "    ``dtype``, ``casting``, ``order`` and the other keywords of the ufunc."]
    lines += ["", "Returns", "-------", *form.returns.split("\n"), ""]
    lines += ["Notes", "-----",
              "float16 is computed in float32 and rounded once; float32, float64 and",
              "long double keep their dtype. No RuntimeWarning is raised for any input.",
              f"The raw ufunc is ``actgrad.ufuncs.{act.function_name(form)}``"
              + (f" (signature ``{form.signature}``)." if form.signature else "."), ""]
    if act.references:
        lines += ["References", "----------"]
        lines += [f".. [{i + 1}] {r}" for i, r in enumerate(act.references)] + [""]
    call, output = act.examples[form.suffix]
    lines += ["Examples", "--------", ">>> import numpy as np", ">>> import actgrad as ag"]
    lines += act.example_setup.rstrip("\n").split("\n")
    lines += [">>> " + call, output]
    return "\n".join(lines) + "\n"


def _softmax_like(name, *, summary, formula, derivative, backward, conventions,
                  examples, tolerance_ulp, absent=-math.inf):
    return AxisActivation(
        name=name, header="axis_loops.hpp", convention="axis", summary=summary,
        formula=formula, derivative=derivative, conventions=conventions,
        forms=(
            AxisForm("", "f", ("x",), "(n)->(n)", "{summary}", "",
                     "ndarray\n    The same shape as x, and its dtype (float64 for integers).",
                     "it works on the last axis, or on any with "
                     "``axes=[(axis,), (axis,)]``."),
            AxisForm("_backward", "backward", ("grad_output", "x"), "(n),(n)->(n)",
                     "Backward pass of `{name}` along an axis, from x: "
                     "the gradient with respect to x.",
                     backward,
                     "ndarray\n    The gradient with respect to x, of the broadcast shape.",
                     "``(grad_output, x)`` on the last axis, or on any with "
                     "``axes=[(axis,)] * 3``."),
        ),
        example_setup=(
            ">>> x = np.array([[0.0, 0.0, 0.0, 0.0], [5.0, -np.inf, 5.0, -np.inf], [-np.inf] * 4])\n"
            ">>> g = np.array([[1.0, 2.0, 3.0, 4.0]] * 3)"
        ),
        examples=examples, torch_name=name, tolerance_ulp=tolerance_ulp, absent=absent,
    )


AXIS_ACTIVATIONS: tuple[AxisActivation, ...] = (
    _softmax_like(
        "softmax",
        summary="Softmax along an axis: exponentials normalised to sum to 1 in each row.",
        formula="s_i = exp(x_i - m) / sum_j exp(x_j - m),   m = max_j x_j",
        derivative="d s_i / d x_j = s_i * (delta_ij - s_j)",
        backward="grad_x = s * (grad_output - sum(grad_output * s))",
        conventions=(
            "A row that is all -inf (fully masked) gives zeros, not NaN, and its\n"
            "backward pass zeros. Entries at +inf share their row equally (the limit\n"
            "as they grow together): softmax([inf, 1, inf]) = [0.5, 0, 0.5]. NaN\n"
            "anywhere in a row of x gives a row of NaN. The backward pass is 0 where\n"
            "s is 0, whatever grad_output holds there. It recomputes s from x in the\n"
            "output buffer: three passes over each row, no temporary arrays. Each\n"
            "result is within a few ulp of the exact value (the row's maximum is\n"
            "subtracted exactly and its sums are compensated)."
        ),
        examples={
            "": ("ag.softmax(x)",
                 "array([[0.25, 0.25, 0.25, 0.25],\n"
                 "       [0.5 , 0.  , 0.5 , 0.  ],\n"
                 "       [0.  , 0.  , 0.  , 0.  ]])"),
            "_backward": ("ag.softmax_backward(g, x)",
                          "array([[-0.375, -0.125,  0.125,  0.375],\n"
                          "       [-0.5  ,  0.   ,  0.5  ,  0.   ],\n"
                          "       [ 0.   ,  0.   ,  0.   ,  0.   ]])"),
        },
        tolerance_ulp={"": 4.0, "_backward": 4.0},
    ),
    _softmax_like(
        "log_softmax",
        summary="Log-softmax along an axis: x minus the log-sum-exp of its row.",
        formula="l_i = (x_i - m) - log(sum_j exp(x_j - m)),   m = max_j x_j",
        derivative="d l_i / d x_j = delta_ij - s_j,   s = softmax(x)",
        backward="grad_x = grad_output - s * sum(grad_output)",
        conventions=(
            "A row that is all -inf (fully masked) gives -inf, and its backward pass\n"
            "zeros, not NaN. Entries at +inf share their row equally: log_softmax of\n"
            "[inf, 1, inf] is [-log 2, -inf, -log 2]. NaN anywhere in a row of x\n"
            "gives a row of NaN. Where s is 0 the backward pass is grad_output. It\n"
            "recomputes s from x in the output buffer: three passes over each row, no\n"
            "temporary arrays. The log-sum-exp is log1p of the sum of all terms but\n"
            "the maximum's, so each result is within a few ulp of the exact value."
        ),
        examples={
            "": ("ag.log_softmax(x)",
                 "array([[-1.38629436, -1.38629436, -1.38629436, -1.38629436],\n"
                 "       [-0.69314718,        -inf, -0.69314718,        -inf],\n"
                 "       [       -inf,        -inf,        -inf,        -inf]])"),
            "_backward": ("ag.log_softmax_backward(g, x)",
                          "array([[-1.5, -0.5,  0.5,  1.5],\n"
                          "       [-4. ,  2. , -2. ,  4. ],\n"
                          "       [ 0. ,  0. ,  0. ,  0. ]])"),
        },
        tolerance_ulp={"": 4.0, "_backward": 4.0},
    ),
    _softmax_like(
        "softmin",
        summary="Softmin along an axis: softmax(-x), the smallest entries weighted most.",
        formula="s_i = exp(m - x_i) / sum_j exp(m - x_j),   m = min_j x_j",
        derivative="d s_i / d x_j = -s_i * (delta_ij - s_j)",
        backward="grad_x = -s * (grad_output - sum(grad_output * s))",
        conventions=(
            "softmin(x) is softmax(-x) bit for bit (negation is exact), as PyTorch\n"
            "defines it, with softmax's conventions mirrored: a row that is all +inf\n"
            "gives zeros and its backward pass zeros; entries at -inf share their row\n"
            "equally: softmin([-inf, 1, -inf]) = [0.5, 0, 0.5]. NaN anywhere in a row\n"
            "of x gives a row of NaN. The backward pass is -0.0 where s is 0, whatever\n"
            "grad_output holds there (PyTorch's autograd through softmax(-x) gives\n"
            "-0.0 too). Each result is within a few ulp of the exact value."
        ),
        examples={
            "": ("ag.softmin(x)",
                 "array([[0.25, 0.25, 0.25, 0.25],\n"
                 "       [0.  , 0.5 , 0.  , 0.5 ],\n"
                 "       [0.25, 0.25, 0.25, 0.25]])"),
            "_backward": ("ag.softmin_backward(g, x)",
                          "array([[ 0.375,  0.125, -0.125, -0.375],\n"
                          "       [-0.   ,  0.5  , -0.   , -0.5  ],\n"
                          "       [ 0.375,  0.125, -0.125, -0.375]])"),
        },
        tolerance_ulp={"": 4.0, "_backward": 4.0},
        absent=math.inf,
    ),
    AxisActivation(
        name="glu", header="axis_loops.hpp", convention="halves",
        summary="Gated linear unit: the first half of an axis gated by the second.",
        formula="glu(x) = a * sigmoid(b),   (a, b) = the halves of x along the axis",
        derivative="d/da = sigmoid(b),   d/db = a * sigmoid(b) * sigmoid(-b)",
        conventions=(
            "a = +-inf gives +-inf for every b but -inf (sigmoid(b) > 0), where\n"
            "inf * 0 is NaN. NaN in a or b gives NaN in that output, and in both\n"
            "halves of the gradient. The backward pass is 0 where the derivative is\n"
            "0 (d/da at b = -inf; d/db at b = +-inf or a = 0), whatever grad_output.\n"
            "sigmoid and its derivative are computed from exp(-|b|), so both tails\n"
            "keep their digits (no 1 - sigmoid)."
        ),
        forms=(
            AxisForm("", "f", ("x",), "(2,n)->(n)", "{summary}", "",
                     "ndarray\n    x's shape with the axis halved, and x's dtype "
                     "(float64 for integers).",
                     "on x with the axis split as ``x.reshape(..., 2, n)`` "
                     "(a = [..., 0, :], b = [..., 1, :])."),
            AxisForm("_backward", "backward", ("grad_output", "x"), "(n),(2,n)->(2,n)",
                     "Backward pass of `glu`: the gradient with respect to x, both halves.",
                     "grad_x = concatenate([grad_output * d/da, "
                     "grad_output * d/db], axis)",
                     "ndarray\n    The gradient with respect to x, of x's shape (broadcast).",
                     "``(grad_output, x split as x.reshape(..., 2, n))``, result "
                     "split the same way."),
        ),
        example_setup=(
            ">>> x = np.array([[4.0, 2.0, 0.0, np.inf], [1.0, 3.0, np.inf, -np.inf]])\n"
            ">>> g = np.ones((2, 2))"
        ),
        examples={
            "": ("ag.glu(x)", "array([[2., 2.],\n       [1., 0.]])"),
            "_backward": ("ag.glu_backward(g, x)",
                          "array([[0.5, 1. , 1. , 0. ],\n       [1. , 0. , 0. , 0. ]])"),
        },
        torch_name="glu", tolerance_ulp={"": 4.0, "_backward": 4.0},
        references=("Y. N. Dauphin et al., Language Modeling with Gated Convolutional "
                    "Networks, ICML 2017.",),
    ),
    AxisActivation(
        name="prelu", header="axis_loops.hpp", convention="channel",
        summary="Parametric ReLU: leaky_relu with a learnable slope per channel (axis 1).",
        formula="prelu(x, w) = x if x > 0 else w * x",
        derivative="d/dx = 1 if x > 0 else w,   d/dw = 0 if x > 0 else x",
        conventions=(
            "weight has one element (used everywhere) or one per channel, broadcast\n"
            "along axis 1 of x (PyTorch's convention; x of fewer than 2 dimensions\n"
            "takes one element). At the kink d/dx(0) = w, as in PyTorch. NaN in x\n"
            "gives NaN. The backward pass is 0 where the derivative is 0 (d/dx where\n"
            "x <= 0 and w = 0; d/dw where x >= 0), whatever grad_output."
        ),
        forms=(
            AxisForm("", "f", ("x", "weight"), "", "{summary}", "",
                     "ndarray\n    x's shape; the dtype of x and weight promoted "
                     "(float64 for integers).",
                     "elementwise in (x, weight), which broadcast as for any ufunc."),
            AxisForm("_grad", "grad", ("x", "weight"), "",
                     "Derivative of `prelu` with respect to x, elementwise.",
                     "",
                     "ndarray\n    x's shape; the dtype of x and weight promoted.",
                     "elementwise in (x, weight), which broadcast as for any ufunc."),
            AxisForm("_backward", "backward", ("grad_output", "x", "weight"),
                     "(m,c,n),(m,c,n),(c)->(m,c,n),(c)",
                     "Backward pass of `prelu`: the gradients with respect to x and weight.",
                     "grad_input = grad_output * d/dx\n"
                     "grad_weight = sum of grad_output * d/dw over all axes but 1",
                     "grad_input : ndarray\n    x's shape.\n"
                     "grad_weight : ndarray\n    weight's shape: the sum over every "
                     "element that shares the weight.\nBoth are computed in one pass "
                     "over x (compensated sums).",
                     "``(grad_output, x, weight)`` with x viewed as (batch, channel, "
                     "rest) and one weight per channel."),
        ),
        example_setup=(
            ">>> x = np.array([[-2.0, -1.0], [4.0, -6.0]])\n"
            ">>> w = np.array([0.25, 0.5])\n"
            ">>> g = np.ones((2, 2))"
        ),
        examples={
            "": ("ag.prelu(x, w)", "array([[-0.5, -0.5],\n       [ 4. , -3. ]])"),
            "_grad": ("ag.prelu_grad(x, w)", "array([[0.25, 0.5 ],\n       [1.  , 0.5 ]])"),
            "_backward": ("ag.prelu_backward(g, x, w)",
                          "(array([[0.25, 0.5 ],\n       [1.  , 0.5 ]]), array([-2., -7.]))"),
        },
        torch_name="prelu", tolerance_ulp={"": 0.0, "_grad": 0.0, "_backward": 0.0},
        references=("K. He et al., Delving Deep into Rectifiers, ICCV 2015.",),
    ),
)
