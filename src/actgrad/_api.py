"""The public functions, derived from the activation table.

Every public function is a thin Python function over its raw ufunc in
``actgrad.ufuncs``, generated from the table, with one dispatch:

- ``type(x) is numpy.ndarray``: straight to the ufunc (the fast path: about
  0.1 us over calling the ufunc itself);
- torch tensors, JAX arrays, CuPy arrays (recognised by their type's module,
  never by importing anything): computed by their own library, see
  ``actgrad._xp``;
- everything else (scalars, sequences, masked arrays and any object that
  speaks ``__array_ufunc__``: dask, xarray, pint, astropy): through the ufunc,
  after telling pint/astropy about it where needed (``actgrad._protocols``).

For NumPy input a public function behaves like its ufunc: ``out=``,
``where=``, ``dtype=``, ``casting=``, ``order=``, broadcasting; one without
parameters also takes ``out`` positionally and carries the ufunc's attributes
(``nin``, ``types``, ...) and methods.  A parameterised one checks its
parameters and passes them to the ufunc as extra inputs, so they broadcast
like any operand.  Public functions pickle by name (dask workers need that).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import _kinds, _protocols, _ufuncs, _xp
from ._table import ACTIVATIONS, FORMS, REAL, Activation, Form

__all__: list[str] = []

# `out` is a named keyword so that the common `out=` call reaches the ufunc
# through vectorcall, not through a **kwargs dict (~0.3 us slower).  Its
# default is _ABSENT (shown as None), not None: NumPy warns about `where=`
# without `out=`, but not with an explicit out=None, and so must actgrad.
_PLAIN = """\
def {name}({arrays}, /, *args, out=_absent, **kwargs):
    if {fast}:
        if args:  # positional out
            if out is not _absent:
                kwargs["out"] = out
            return _ufunc({arrays}, *args, **kwargs)
        if kwargs:
            if out is _absent:
                return _ufunc({arrays}, **kwargs)
            return _ufunc({arrays}, out=out, **kwargs)
        if out is _absent:
            return _ufunc({arrays})
        return _ufunc({arrays}, out=out)
    if out is not _absent:
        kwargs["out"] = out
    return _dispatch(_act, _form, _ufunc, ({arrays},), (), args, kwargs)
"""

_PARAMETERISED = """\
def {name}({arrays}, {params}, *, out=_absent, **ufunc_kwargs):
    if not ({fast_accept}):
        _check_params({values})
    if {fast}:
        if ufunc_kwargs:
            if out is _absent:
                return _ufunc({arrays}, {names}, **ufunc_kwargs)
            return _ufunc({arrays}, {names}, out=out, **ufunc_kwargs)
        if out is _absent:
            return _ufunc({arrays}, {names})
        return _ufunc({arrays}, {names}, out=out)
    if out is not _absent:
        ufunc_kwargs["out"] = out
    return _dispatch(_act, _form, _ufunc, ({arrays},), ({names},), (), ufunc_kwargs)
"""

# A float parameter that passes these tests needs no further checking; any
# other value (int, numpy scalar, array, bad input) takes the full check.
_FAST_ACCEPT = {"real": "{0} == {0}", "finite": "-_inf < {0} < _inf",
                "nonnegative": "0.0 <= {0} < _inf", "any": "True",
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
    # a str subclass (np.str_) passed the check: call again with the str
    return {name}({arrays}, {str_params}, **ufunc_kwargs)
"""

#: the ufunc attributes and methods a parameterless public function carries
_UFUNC_ATTRIBUTES = ("nin", "nout", "nargs", "ntypes", "types", "identity", "signature",
                     "reduce", "accumulate", "reduceat", "outer", "at")


def _dispatch(act: Activation, form: Form, ufunc, arrays, params, args, kwargs):
    """Everything but the NumPy fast path."""
    backend = _kinds.kind_of(arrays)
    if backend not in _kinds.OWN_LIBRARIES:
        _protocols.register(backend)
        if params:
            # With the float64 parameter operands, NumPy takes a Python int
            # as int64, so 2**63 would overflow; as a uint64 (or object)
            # array it goes where it goes without parameters.
            arrays = tuple(np.asarray(a) if type(a) is int and not _INT64[0] <= a <= _INT64[1]
                           else a for a in arrays)
        return ufunc(*arrays, *params, *args, **kwargs)
    if "out" in kwargs and kwargs["out"] is None:  # the default, said explicitly
        kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    _xp.refuse_numpy_keywords(act.function_name(form), backend, args, kwargs)
    return _xp.compute(backend, act, form, arrays, params, ufunc)


_INT64 = (-2**63, 2**63 - 1)


class _Absent:
    """The default of `out`: no out= given (shown as None in signatures)."""

    def __repr__(self):
        return "None"


_ABSENT = _Absent()


def _floats_accepted(params) -> str:
    """Source of a test that passes when every parameter is a float in its domain."""
    return " and ".join(f"type({p.name}) is float and " + _FAST_ACCEPT[p.domain].format(p.name)
                        for p in params)


def _define(act: Activation, form: Form, source: str, namespace: dict):
    """Compile one generated public function and give it its name, module and docstring."""
    exec(compile(source, f"<actgrad.{act.function_name(form)}>", "exec"), namespace)
    function = namespace[act.function_name(form)]
    function.__module__ = "actgrad"
    function.__doc__ = act.docstring(form)
    return function


def _public_function(act: Activation, form: Form):
    if act.selector:
        return _selecting(act, form)
    ufunc = getattr(_ufuncs, act.function_name(form))
    arrays = ", ".join(form.arrays)
    fast = " and ".join(f"type({a}) is _ndarray" for a in form.arrays)
    if act.params:
        names = ", ".join(p.name for p in act.params)
        # The defaults themselves (the very objects) need no checking at all.
        defaults = ("(" + " and ".join(f"{p.name} is _default_{p.name}" for p in act.params)
                    + ") or " if all(not p.required for p in act.params) else "")
        source = _PARAMETERISED.format(
            name=act.function_name(form),
            arrays=arrays,
            fast=fast,
            params=", ".join(p.name if p.required else f"{p.name}=_default_{p.name}"
                             for p in act.params),
            names=names,
            fast_accept=defaults + _floats_accepted(act.params)
            + (" and _constraint(" + names + ")" if act.constraint else ""),
            values="{" + ", ".join(f"{p.name!r}: {p.name}" for p in act.params) + "}",
        )
    else:
        source = _PLAIN.format(name=act.function_name(form), arrays=arrays, fast=fast)
    namespace = {"_ufunc": ufunc, "_act": act, "_form": form, "_dispatch": _dispatch,
                 "_ndarray": np.ndarray, "_check_params": _params_checker(act, form),
                 "_inf": float("inf"), "_absent": _ABSENT,
                 "_constraint": act.constraint[0] if act.constraint else None,
                 **{f"_default_{k}": v for k, v in act.default_params().items()}}
    function = _define(act, form, source, namespace)
    function.ufunc = ufunc
    if not act.params:
        for attribute in _UFUNC_ATTRIBUTES:
            setattr(function, attribute, getattr(ufunc, attribute))
    return function


def _params_checker(act: Activation, form: Form):
    """act.check_params, its messages naming the public function (celu_grad)."""
    name = act.function_name(form)

    def check(values):
        act.check_params(values, name)

    return check


def _renamed(error: TypeError, raw: str, public: str) -> TypeError:
    """`error` with the raw ufunc's name replaced by the public function's."""
    message = str(error)
    if raw == public or raw not in message:
        return error
    return type(error)(message.replace(raw, public)) if type(error) is TypeError \
        else TypeError(message.replace(raw, public))


def _selecting(act: Activation, form: Form):
    numeric = [p for p in act.params if p.name != act.selector]
    selector = act.selector
    params = ", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in act.params)
    values = "{" + ", ".join(f"{p.name!r}: {p.name}" for p in act.params) + "}"
    fast = " and ".join(f"type({a}) is _ndarray" for a in form.arrays)
    namespace = {"_check_params": _params_checker(act, form), "_inf": float("inf"),
                 "_ndarray": np.ndarray,
                 "_dispatch": _dispatch, "_form": form, "_renamed": _renamed}
    branches = []
    for i, variant in enumerate(act.variants):
        namespace[f"_ufunc{i}"] = getattr(_ufuncs, act.name + variant.suffix + form.suffix)
        # torch/JAX/CuPy compute the variant's own kernel
        namespace[f"_act{i}"] = dataclasses.replace(act, kernel=variant.kernel)
        if variant.key is None:
            test = f"{selector} is None"
        elif variant.key == REAL:
            # the selector is a number too: check it like any real parameter
            test = f"type({selector}) is float and {selector} == {selector}"
            branches.append(f"    if {selector} is not None and not ({test}):\n"
                            f"        _check_params({values})")
            test = f"{selector} is not None"
        else:
            test = f"type({selector}) is str and {selector} == {variant.key!r}"
        arrays = ", ".join(form.arrays)
        args = ", ".join(form.arrays + variant.params)
        # errors name the public function, not the variant's raw ufunc
        # (gelu_grad, not gelu_tanh_grad); try costs nothing until it raises
        branches.append(
            f"    if {test}:\n"
            f"        try:\n"
            f"            if {fast}:\n"
            f"                return _ufunc{i}({args}, **ufunc_kwargs)\n"
            f"            return _dispatch(_act{i}, _form, _ufunc{i}, ({arrays},), "
            f"({', '.join(variant.params)}{',' if variant.params else ''}), (), ufunc_kwargs)\n"
            f"        except TypeError as e:\n"
            f"            raise _renamed(e, {act.name + variant.suffix + form.suffix!r}, "
            f"{act.function_name(form)!r}) from None")
    source = _SELECTING_WRAPPER.format(
        name=act.function_name(form),
        arrays=", ".join(form.arrays),
        params=params,
        fast_accept=_floats_accepted(numeric) or "True",
        values=values,
        str_params=", ".join(f"{p.name}=str({p.name})" if p.name == selector else p.name
                             for p in act.params),
        branches="\n".join(branches),
    )
    function = _define(act, form, source, namespace)
    function.ufuncs = {v.key: namespace[f"_ufunc{i}"] for i, v in enumerate(act.variants)}
    return function


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

_protocols.register_quantity_types()
