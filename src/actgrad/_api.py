"""The public functions, derived from the activation table.

Every public function is a thin Python function over its raw ufunc in
``actgrad.ufuncs``, a closure made from the table by a factory below, with
one dispatch (the kind of an argument is decided by ``actgrad.backends.kinds``):

- ``type(x) is numpy.ndarray``: straight to the ufunc (the fast path: about
  0.1 us over calling the ufunc itself, ``benchmarks/dispatch_overhead.py``);
- torch tensors, JAX arrays, CuPy arrays (recognised by their type's module,
  never by importing anything): see ``actgrad.backends.xp``;
- everything else (scalars, sequences, masked arrays and any object that
  speaks ``__array_ufunc__``: dask, xarray, pint, astropy): through the ufunc,
  after telling pint/astropy about it where needed (``actgrad.backends.quantities``).

For NumPy input a public function behaves like its ufunc: ``out=``,
``where=``, ``dtype=``, ``casting=``, ``order=``, broadcasting; one without
parameters also takes ``out`` positionally and carries the ufunc's attributes
(``nin``, ``types``, ...) and methods.  A parameterised one checks its
parameters and passes them to the ufunc as extra inputs, so they broadcast
like any operand.  Public functions pickle by name (dask workers need that).
"""

from __future__ import annotations

import dataclasses
import inspect
import types

import numpy as np

from . import _ufuncs
from .backends import kinds as _kinds, quantities as _quantities, xp as _xp
from ._table import ACTIVATIONS, FORMS, REAL, REQUIRED, Activation, Form

__all__: list[str] = []

#: the ufunc attributes and methods a parameterless public function carries
_UFUNC_ATTRIBUTES = ("nin", "nout", "nargs", "ntypes", "types", "identity", "signature",
                     "reduce", "accumulate", "reduceat", "outer", "at")

_ndarray = np.ndarray
_inf = float("inf")


def _dispatch(act: Activation, form: Form, ufunc, arrays, params, args, kwargs):
    """Everything but the NumPy fast path."""
    backend = _kinds.kind_of(arrays)
    if backend not in _kinds.OWN_LIBRARIES:
        _quantities.register(backend)
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


def _renamed(error: TypeError, raw: str, public: str) -> TypeError:
    """`error` with the raw ufunc's name replaced by the public function's."""
    message = str(error)
    if raw == public or raw not in message:
        return error
    return type(error)(message.replace(raw, public)) if type(error) is TypeError \
        else TypeError(message.replace(raw, public))


# The public functions are closures over their ufunc, made by the factories
# below.  `out` is a named keyword so that the common `out=` call reaches the
# ufunc through vectorcall, not through a **kwargs dict (~0.3 us slower).
# Its default is _ABSENT (shown as None), not None: NumPy warns about `where=`
# without `out=`, but not with an explicit out=None, and so must actgrad.


def _plain(act: Activation, form: Form, ufunc):
    """A function without parameters: f(x, /, *args, out=None, **kwargs)."""

    def call(arrays, args, out, kwargs):
        if args:  # positional out
            if out is not _ABSENT:
                kwargs["out"] = out
            return ufunc(*arrays, *args, **kwargs)
        if out is _ABSENT:
            return ufunc(*arrays, **kwargs)
        return ufunc(*arrays, out=out, **kwargs)

    def elsewhere(arrays, args, out, kwargs):
        if out is not _ABSENT:
            kwargs["out"] = out
        return _dispatch(act, form, ufunc, arrays, (), args, kwargs)

    if len(form.arrays) == 1:
        def function(x, /, *args, out=_ABSENT, **kwargs):
            if type(x) is _ndarray:
                if args or kwargs:
                    return call((x,), args, out, kwargs)
                if out is _ABSENT:
                    return ufunc(x)
                return ufunc(x, out=out)
            return elsewhere((x,), args, out, kwargs)
    else:
        def function(grad_output, x, /, *args, out=_ABSENT, **kwargs):
            if type(grad_output) is _ndarray and type(x) is _ndarray:
                if args or kwargs:
                    return call((grad_output, x), args, out, kwargs)
                if out is _ABSENT:
                    return ufunc(grad_output, x)
                return ufunc(grad_output, x, out=out)
            return elsewhere((grad_output, x), args, out, kwargs)
    for attribute in _UFUNC_ATTRIBUTES:
        setattr(function, attribute, getattr(ufunc, attribute))
    return function


class _Parameters:
    """Binding and checking the parameters of one public function."""

    def __init__(self, act: Activation, form: Form):
        self.name = act.function_name(form)
        self.act, self.form = act, form
        self.names = tuple(p.name for p in act.params)
        self.defaults = tuple(p.default for p in act.params)
        # a float in its domain needs no further checking; anything else
        # (int, NumPy scalar, array, bad input) takes act.check_params
        self.tests = tests = [_IN_DOMAIN.get(p.domain, _never) for p in act.params]
        constraint = act.constraint[0] if act.constraint else None
        if constraint is not None:  # (one test per parameter would miss it)
            self.tests = [_never] * len(tests)

        def accepted(values):
            for v, test in zip(values, tests):
                if type(v) is not float or not test(v):
                    return False
            return constraint is None or constraint(*values)

        self.accepted = accepted

    def bind(self, values: tuple, kwargs: dict) -> tuple:
        """The parameters from positional `values` and, popped from `kwargs`,
        keyword ones; the defaults for the others."""
        names, defaults = self.names, self.defaults
        if len(names) == 1 and not values:  # the common f(x, slope=0.2)
            v = kwargs.pop(names[0], defaults[0])
            if v is not REQUIRED:
                return (v,)
        if len(values) > len(names):
            raise TypeError(f"{self.name}() takes {len(names)} parameter(s) after the arrays "
                            f"({', '.join(names)}), got {len(values)}")
        bound = list(values)
        for i in range(len(values), len(names)):
            bound.append(kwargs.pop(names[i], defaults[i]))
        for name in names[:len(values)]:
            if name in kwargs:
                raise TypeError(f"{self.name}() got multiple values for argument {name!r}")
        missing = [repr(name) for name, v in zip(names, bound) if v is REQUIRED]
        if missing:
            raise TypeError(f"{self.name}() missing required argument(s): {', '.join(missing)}")
        return tuple(bound)

    def check(self, values: tuple) -> None:
        self.act.check_params(dict(zip(self.names, values)), self.name)

    def signature(self) -> inspect.Signature:
        P = inspect.Parameter
        return inspect.Signature(
            [P(a, P.POSITIONAL_OR_KEYWORD) for a in self.form.arrays]
            + [P(p.name, P.POSITIONAL_OR_KEYWORD,
                 **({} if p.required else {"default": p.default})) for p in self.act.params]
            + ([] if self.act.selector else [P("out", P.KEYWORD_ONLY, default=None)])
            + [P("ufunc_kwargs", P.VAR_KEYWORD)])


def _never(value) -> bool:  # a selector is checked by the full check
    return False


_IN_DOMAIN = {"real": lambda v: v == v, "finite": lambda v: -_inf < v < _inf,
              "nonnegative": lambda v: 0.0 <= v < _inf, "any": lambda v: True,
              "positive": lambda v: 0.0 < v < _inf}


def _parameterised(act: Activation, form: Form, ufunc):
    """A function with numeric parameters: f(x, p1=..., *, out=None, **kwargs),
    its parameters passed to the ufunc as extra inputs.

    The closures are written once, with generic parameter names (p0, p1);
    ``_named`` gives each public function its own keyword parameters, so that
    binding them costs what it costs for any Python function (a **kwargs
    dict and a binder in Python would add ~0.3 us to a 10-element call)."""
    params = _Parameters(act, form)
    accepted, check = params.accepted, params.check
    defaults = params.defaults

    def call(arrays, values, out, kwargs):
        if all(type(a) is _ndarray for a in arrays):
            if kwargs:
                if out is _ABSENT:
                    return ufunc(*arrays, *values, **kwargs)
                return ufunc(*arrays, *values, out=out, **kwargs)
            if out is _ABSENT:
                return ufunc(*arrays, *values)
            return ufunc(*arrays, *values, out=out)
        if out is not _ABSENT:
            kwargs["out"] = out
        return _dispatch(act, form, ufunc, arrays, values, (), kwargs)

    # The defaults themselves (the very objects) and floats in their domain
    # need no further checking.
    if len(params.names) == 1:
        (d0,), (test0,) = defaults, params.tests

        def one(x, p0=d0, *, out=_ABSENT, **ufunc_kwargs):
            if p0 is not d0 and not (type(p0) is float and test0(p0)):
                check((p0,))
            if type(x) is _ndarray and not ufunc_kwargs:
                return ufunc(x, p0) if out is _ABSENT else ufunc(x, p0, out=out)
            return call((x,), (p0,), out, ufunc_kwargs)

        def two(grad_output, x, p0=d0, *, out=_ABSENT, **ufunc_kwargs):
            if p0 is not d0 and not (type(p0) is float and test0(p0)):
                check((p0,))
            return call((grad_output, x), (p0,), out, ufunc_kwargs)
    elif len(params.names) == 2:
        d0, d1 = defaults

        def one(x, p0=d0, p1=d1, *, out=_ABSENT, **ufunc_kwargs):
            if not (p0 is d0 and p1 is d1) and not accepted((p0, p1)):
                check((p0, p1))
            if type(x) is _ndarray and not ufunc_kwargs:
                return ufunc(x, p0, p1) if out is _ABSENT else ufunc(x, p0, p1, out=out)
            return call((x,), (p0, p1), out, ufunc_kwargs)

        def two(grad_output, x, p0=d0, p1=d1, *, out=_ABSENT, **ufunc_kwargs):
            if not (p0 is d0 and p1 is d1) and not accepted((p0, p1)):
                check((p0, p1))
            return call((grad_output, x), (p0, p1), out, ufunc_kwargs)
    else:
        raise NotImplementedError(f"{act.name}: a function of {len(params.names)} numeric "
                                  "parameters needs its closure in actgrad._api._parameterised")
    function = one if len(form.arrays) == 1 else two
    return _named(function, form.arrays, params)


def _named(function, arrays, params):
    """`function` with its generic parameters (the arrays, then p0, p1, ...)
    renamed to the table's, under the public function's name; a required
    parameter (they come first) has no default."""
    code = function.__code__
    names = dict(zip(code.co_varnames[:code.co_argcount], (*arrays, *params.names)))
    changes = {"co_varnames": tuple(names.get(v, v) for v in code.co_varnames),
               "co_name": params.name}
    if hasattr(code, "co_qualname"):  # Python 3.11+
        changes["co_qualname"] = params.name
    defaults = tuple(d for d in params.defaults if d is not REQUIRED)
    renamed = types.FunctionType(code.replace(**changes), function.__globals__, params.name,
                                 defaults or None, function.__closure__)
    renamed.__kwdefaults__ = function.__kwdefaults__
    renamed.__signature__ = params.signature()
    return renamed


def _selecting(act: Activation, form: Form):
    """A function whose selector parameter (gelu's `approximate`, softplus's
    `threshold`) picks one ufunc per variant; it checks the parameters, then
    calls the variant's ufunc with the numeric ones that variant takes."""
    params = _Parameters(act, form)
    selector = params.names.index(act.selector)
    variants = []
    for variant in act.variants:
        ufunc = getattr(_ufuncs, act.name + variant.suffix + form.suffix)
        # torch/JAX/CuPy compute the variant's own kernel
        variant_act = dataclasses.replace(act, kernel=variant.kernel)
        indexes = tuple(params.names.index(p) for p in variant.params)
        variants.append((variant.key, ufunc, variant_act, indexes))
    n_arrays = len(form.arrays)

    def function(*args, **ufunc_kwargs):
        if len(args) < n_arrays:
            raise TypeError(f"{params.name}() missing required argument(s): "
                            f"{', '.join(form.arrays[len(args):])}")
        arrays, values = args[:n_arrays], params.bind(args[n_arrays:], ufunc_kwargs)
        params.check(values)
        key = values[selector]
        for variant_key, ufunc, variant_act, indexes in variants:
            if variant_key is None:
                chosen = key is None
            elif variant_key is REAL:
                chosen = key is not None
            else:
                chosen = key == variant_key
            if chosen:
                break
        numeric = tuple(values[i] for i in indexes)
        # errors name the public function, not the variant's raw ufunc
        # (gelu_grad, not gelu_tanh_grad)
        try:
            if all(type(a) is _ndarray for a in arrays):
                return ufunc(*arrays, *numeric, **ufunc_kwargs)
            return _dispatch(variant_act, form, ufunc, arrays, numeric, (), ufunc_kwargs)
        except TypeError as e:
            raise _renamed(e, ufunc.__name__, params.name) from None

    function.__signature__ = params.signature()
    function.ufuncs = {key: ufunc for key, ufunc, _, _ in variants}
    return function


def _public_function(act: Activation, form: Form):
    if act.selector:
        function = _selecting(act, form)
    else:
        ufunc = getattr(_ufuncs, act.function_name(form))
        function = (_parameterised if act.params else _plain)(act, form, ufunc)
        function.ufunc = ufunc
    function.__name__ = function.__qualname__ = act.function_name(form)
    function.__module__ = "actgrad"
    function.__doc__ = act.docstring(form)
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

_quantities.register_quantity_types()
