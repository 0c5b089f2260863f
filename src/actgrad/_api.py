"""The public functions, derived from the activation table.

An activation without parameters is its ufunc, unchanged.  One with
parameters gets a thin function that checks them and passes them to the ufunc
as extra inputs, so that they broadcast like any operand.
"""

from __future__ import annotations

from . import _ufuncs
from ._table import ACTIVATIONS, FORMS, REAL, Activation, Form

__all__: list[str] = []

_WRAPPER = """\
def {name}({arrays}, {params}, **ufunc_kwargs):
    if not ({fast_accept}):
        _check_params({values})
    return _ufunc({arrays}, {names}, **ufunc_kwargs)
"""

# A float parameter that passes these tests needs no further checking; any
# other value (int, numpy scalar, array, bad input) takes the full check.
_FAST_ACCEPT = {"real": "{0} == {0}", "nonnegative": "{0} >= 0.0", "any": "True",
                "positive": "0.0 < {0} < _inf"}

# An activation with a selector parameter (gelu's `approximate`, softplus's
# `threshold`) has one ufunc per variant; its function checks the numeric
# parameters, then calls the ufunc that the selector's value picks.
_SELECTING_WRAPPER = """\
def {name}({arrays}, {params}, **ufunc_kwargs):
    if not ({fast_accept}):
        _check_params({values})
{branches}
    _check_params({values})
    raise ValueError("unreachable")  # _check_params raised
"""


def _parameterised(act: Activation, form: Form, ufunc):
    params = ", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in act.params)
    names = ", ".join(p.name for p in act.params)
    source = _WRAPPER.format(
        name=act.function_name(form),
        arrays=", ".join(form.arrays),
        params=params,
        names=names,
        fast_accept=" and ".join(
            f"type({p.name}) is float and " + _FAST_ACCEPT[p.domain].format(p.name)
            for p in act.params
        ) + (" and _constraint(" + names + ")" if act.constraint else ""),
        values="{" + ", ".join(f"{p.name!r}: {p.name}" for p in act.params) + "}",
    )
    namespace = {"_ufunc": ufunc, "_check_params": act.check_params, "_inf": float("inf"),
                 "_constraint": act.constraint[0] if act.constraint else None}
    exec(compile(source, f"<actgrad.{act.function_name(form)}>", "exec"), namespace)
    function = namespace[act.function_name(form)]
    function.__module__ = "actgrad"
    function.__doc__ = act.docstring(form)
    function.ufunc = ufunc
    return function


def _selecting(act: Activation, form: Form):
    numeric = [p for p in act.params if p.name != act.selector]
    selector = act.selector
    params = ", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in act.params)
    namespace = {"_check_params": act.check_params, "_inf": float("inf")}
    branches = []
    for i, variant in enumerate(act.variants):
        namespace[f"_ufunc{i}"] = getattr(_ufuncs, act.name + variant.suffix + form.suffix)
        if variant.key is None:
            test = f"{selector} is None"
        elif variant.key == REAL:
            # the selector is a number too: check it like any real parameter
            test = f"type({selector}) is float and {selector} == {selector}"
            branches.append(f"    if {selector} is not None and not ({test}):\n"
                            f"        _check_params({{values}})")
            test = f"{selector} is not None"
        else:
            test = f"type({selector}) is str and {selector} == {variant.key!r}"
        args = ", ".join(form.arrays + variant.params)
        branches.append(f"    if {test}:\n        return _ufunc{i}({args}, **ufunc_kwargs)")
    source = _SELECTING_WRAPPER.format(
        name=act.function_name(form),
        arrays=", ".join(form.arrays),
        params=params,
        fast_accept=" and ".join(
            f"type({p.name}) is float and " + _FAST_ACCEPT[p.domain].format(p.name)
            for p in numeric) or "True",
        values="{" + ", ".join(f"{p.name!r}: {p.name}" for p in act.params) + "}",
        branches="\n".join(branches),
    ).replace("{values}", "{" + ", ".join(f"{p.name!r}: {p.name}" for p in act.params) + "}")
    exec(compile(source, f"<actgrad.{act.function_name(form)}>", "exec"), namespace)
    function = namespace[act.function_name(form)]
    function.__module__ = "actgrad"
    function.__doc__ = act.docstring(form)
    function.ufuncs = {v.key: namespace[f"_ufunc{i}"] for i, v in enumerate(act.variants)}
    return function


def _public_function(act: Activation, form: Form):
    if act.selector:
        return _selecting(act, form)
    ufunc = getattr(_ufuncs, act.function_name(form))
    return _parameterised(act, form, ufunc) if act.params else ufunc


for _act in ACTIVATIONS:
    for _form in FORMS:
        globals()[_act.function_name(_form)] = _public_function(_act, _form)
        __all__.append(_act.function_name(_form))
del _act, _form
