"""The public functions, derived from the activation table.

An activation without parameters is its ufunc, unchanged.  One with
parameters gets a thin function that checks them and passes them to the ufunc
as extra inputs, so that they broadcast like any operand.
"""

from __future__ import annotations

from . import _ufuncs
from ._table import ACTIVATIONS, FORMS, Activation, Form

__all__: list[str] = []

_WRAPPER = """\
def {name}({arrays}, {params}, **ufunc_kwargs):
    if not ({fast_accept}):
        _check_params({values})
    return _ufunc({arrays}, {names}, **ufunc_kwargs)
"""

# A float parameter that passes these tests needs no further checking; any
# other value (int, numpy scalar, array, bad input) takes the full check.
_FAST_ACCEPT = {"real": "{0} == {0}", "nonnegative": "{0} >= 0.0", "any": "True"}


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
    namespace = {"_ufunc": ufunc, "_check_params": act.check_params,
                 "_constraint": act.constraint[0] if act.constraint else None}
    exec(compile(source, f"<actgrad.{act.function_name(form)}>", "exec"), namespace)
    function = namespace[act.function_name(form)]
    function.__module__ = "actgrad"
    function.__doc__ = act.docstring(form)
    function.ufunc = ufunc
    return function


def _public_function(act: Activation, form: Form):
    ufunc = getattr(_ufuncs, act.function_name(form))
    return _parameterised(act, form, ufunc) if act.params else ufunc


for _act in ACTIVATIONS:
    for _form in FORMS:
        globals()[_act.function_name(_form)] = _public_function(_act, _form)
        __all__.append(_act.function_name(_form))
del _act, _form

# The activations along an axis (softmax, log_softmax, glu, prelu): thin
# functions over their ufuncs, one per calling convention (see _axis.py).
from ._axis import public_functions as _axis_public_functions  # noqa: E402

for _name, _function in _axis_public_functions():
    globals()[_name] = _function
    __all__.append(_name)
del _name, _function
