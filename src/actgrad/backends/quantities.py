"""Teach the unit libraries about actgrad's ufuncs: pint and astropy.

Both implement ``__array_ufunc__`` but refuse a ufunc they do not know, so
each keeps a registry.  actgrad's functions take a dimensionless input
(``1 m/km`` is converted to ``0.001``) and give a dimensionless result; a
quantity with units raises the library's own unit error (a ``TypeError``
subclass for pint, ``UnitTypeError`` for astropy) naming the function.  The
backward pass ``NAME_backward(grad_output, x)`` is the exception: x must be
dimensionless, and the result carries grad_output's units (f'(x) has none).
Parameters must be plain numbers or dimensionless too.

Registration never imports pint or astropy: it happens when actgrad is
imported after them, or the first time an actgrad function sees one of their
quantities.  (A raw ``actgrad.ufuncs`` ufunc called on a quantity before
either of these knows nothing of it; call ``actgrad.register_quantity_types()``.)
"""

from __future__ import annotations

import sys

from . import kinds as _kinds
from .. import _ufuncs
from .._table import ACTIVATIONS, AXIS_ACTIVATIONS, FORMS

_registered: set[str] = set()


def _entries():
    # every ufunc: the variants of gelu and softplus (gelu_tanh, ...) included
    for act in ACTIVATIONS:
        for variant in act.ufunc_variants():
            for form in FORMS:
                name = act.name + variant.suffix + form.suffix
                yield name, getattr(_ufuncs, name), form
    # and those along an axis with one output (prelu_backward, of two, takes
    # magnitudes: backends/containers.py)
    for act in AXIS_ACTIVATIONS:
        for form in act.forms:
            name = act.function_name(form)
            if getattr(_ufuncs, name).nout == 1:
                yield name, getattr(_ufuncs, name), form


is_quantity = _kinds.is_quantity


def split_units(a, name, what, keep_units=False):
    """(number, unit): a quantity's magnitude, and its unit if `keep_units`;
    else it must be dimensionless (the library's unit error otherwise).
    Anything but a quantity comes back as it is, with unit None."""
    if not is_quantity(a):
        return a, None
    if type(a).__module__.startswith("pint"):
        if keep_units:
            return a.magnitude, a.units
        if not a.dimensionless:
            from pint.errors import DimensionalityError

            raise DimensionalityError(a.units, "dimensionless",
                                      extra_msg=f" in actgrad.{name}: {what} must be dimensionless")
        return a.to("dimensionless").magnitude, None
    from astropy.units import UnitsError, UnitTypeError, dimensionless_unscaled

    if keep_units:
        return a.value, a.unit
    try:
        return a.to_value(dimensionless_unscaled), None
    except UnitsError:
        raise UnitTypeError(f"actgrad.{name}: {what} must be dimensionless, got a quantity "
                            f"in {a.unit}") from None


def with_units(value, like, unit):
    """value as a quantity of `like`'s library, in `unit` (None: dimensionless)."""
    if type(like).__module__.startswith("pint"):
        return like._REGISTRY.Quantity(value, unit if unit is not None else "dimensionless")
    from astropy.units import Quantity, dimensionless_unscaled

    return Quantity(value, unit if unit is not None else dimensionless_unscaled)


def register(kind: str) -> None:
    """Register with the library of arrays of this kind (``backends.kinds``), if it is
    a quantity library not yet told about actgrad."""
    if kind in _REGISTER and kind not in _registered:
        _REGISTER[kind]()


def register_quantity_types() -> None:
    """Register actgrad's ufuncs with pint and astropy, those already imported."""
    if "pint" in sys.modules and "pint" not in _registered:
        _register_pint()
    if "astropy.units" in sys.modules and "astropy" not in _registered:
        _register_astropy()


def _register_pint() -> None:
    from pint.errors import DimensionalityError
    from pint.facets.numpy.numpy_func import HANDLED_UFUNCS

    def implementation(name, ufunc, form):
        def pint_actgrad(*args, **kwargs):
            if kwargs.get("out") is not None:
                raise TypeError(f"actgrad.{name}: out= is not supported for pint quantities")
            magnitudes, units, registry = [], None, None
            for i, a in enumerate(args):
                if not hasattr(a, "_REGISTRY"):  # not a quantity
                    magnitudes.append(a)
                    continue
                registry = a._REGISTRY
                if form.kind == "backward" and i == 0:
                    units = a.units
                    magnitudes.append(a.magnitude)
                elif a.dimensionless:
                    magnitudes.append(a.to("dimensionless").magnitude)
                else:
                    what = ("x" if i == len(form.arrays) - 1 else "parameters") + " must be dimensionless"
                    raise DimensionalityError(
                        a.units, "dimensionless", extra_msg=f" in actgrad.{name}: {what}")
            result = ufunc(*magnitudes, **kwargs)
            return registry.Quantity(result, units if units is not None else "dimensionless")

        pint_actgrad._actgrad = True
        return pint_actgrad

    for name, ufunc, form in _entries():
        current = HANDLED_UFUNCS.get(name)
        # pint keys ufuncs by name: never displace another library's entry.
        if current is None or getattr(current, "_actgrad", False):
            HANDLED_UFUNCS[name] = implementation(name, ufunc, form)
    _registered.add("pint")


def _register_astropy() -> None:
    from astropy.units import UnitsError, UnitTypeError, dimensionless_unscaled
    from astropy.units.quantity_helper.helpers import UFUNC_HELPERS, get_converter

    def helper_for(name, form):
        def helper(f, *units):
            converters = []
            for i, unit in enumerate(units):
                if unit is None or (form.kind == "backward" and i == 0):
                    converters.append(None)
                    continue
                try:
                    converters.append(get_converter(unit, dimensionless_unscaled))
                except UnitsError:
                    what = "x" if i == len(form.arrays) - 1 else "parameters"
                    raise UnitTypeError(
                        f"actgrad.{name}: {what} must be dimensionless, got a quantity "
                        f"in {unit}") from None
            result = units[0] if form.kind == "backward" and units[0] is not None else None
            return converters, result if result is not None else dimensionless_unscaled

        return helper

    for name, ufunc, form in _entries():
        UFUNC_HELPERS[ufunc] = helper_for(name, form)
    _registered.add("astropy")


_REGISTER = {"pint": _register_pint, "astropy": _register_astropy}
