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
    #: "real": any real number but NaN; "nonnegative": a real number >= 0;
    #: "any": any real number, NaN included.
    domain: str = "real"
    doc: str = ""

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

    @property
    def kernel_struct(self) -> str:
        return self.kernel or self.name

    def function_name(self, form: Form) -> str:
        return self.name + form.suffix

    def default_params(self) -> dict:
        return {p.name: p.default for p in self.params if not p.required}

    def check_params(self, values: dict) -> None:
        """Raise TypeError/ValueError for parameters outside their domain."""
        for p in self.params:
            _check_param(self.name, p, values[p.name])
        if self.constraint is not None:
            predicate, message = self.constraint
            holds = predicate(**values)
            if not isinstance(holds, bool):  # array parameters: elementwise
                holds = bool(holds.all())
            if not holds:
                raise ValueError(f"{self.name}: {message}, got " + _describe(values))

    def docstring(self, form: Form) -> str:
        return _render_docstring(self, form)


def _describe(values: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


def _check_param(func: str, p: Param, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = getattr(getattr(value, "dtype", None), "kind", None)
        if kind is None and type(value).__module__ == "numpy":  # numpy scalar
            kind = value.dtype.kind
        if kind not in ("i", "u", "f"):
            raise TypeError(
                f"{func}: {p.name} must be a real number, got {value!r} "
                f"of type {type(value).__name__}"
            )
        return _check_param_array(func, p, value)
    if p.domain != "any" and math.isnan(value):
        raise ValueError(f"{func}: {p.name} must not be NaN")
    if p.domain == "nonnegative" and value < 0:
        raise ValueError(f"{func}: {p.name} must be >= 0, got {value!r}")


def _check_param_array(func: str, p: Param, value) -> None:
    # Arrays broadcast against x; check them elementwise without importing
    # numpy at module level (the build reads this file).
    import numpy as np

    arr = np.asarray(value)
    if p.domain != "any" and np.isnan(arr).any():
        raise ValueError(f"{func}: {p.name} must not be NaN")
    if p.domain == "nonnegative" and (arr < 0).any():
        raise ValueError(f"{func}: {p.name} must be >= 0, got {value!r}")


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
    lines += ["Parameters", "----------"]
    if form.kind == "backward":
        lines += ["grad_output : array_like", "    Gradient of the loss with respect to f(x)."]
    lines += ["x : array_like", "    Input; integer and bool inputs "
              + ("keep their dtype in `f`." if act.keeps_integers and form.kind == "f"
                 else "are computed in float64.")]
    for p in act.params:
        default = "required" if p.required else f"default {p.default!r}"
        lines += [f"{p.name} : float or array_like, {default}", f"    {p.doc}"]
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


_LAMBD = Param("lambd", 0.5, "nonnegative", "Half-width of the dead zone [-lambd, lambd].")

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
        params=(Param("negative_slope", 0.01, "real", "Slope for x <= 0."),),
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
        params=(Param("threshold", doc="Values at or below it are replaced."),
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
)
