"""The one place that decides what kind of array an argument is.

Every public function, elementwise or along an axis, asks ``kind_of`` which
code serves its arguments.  The answer depends on the argument types only, so
it is worked out once per type and cached.  A type's kind comes from its
module (and, for quantities, its unit attribute), never from importing
anything: a torch tensor can only exist once torch is imported.

``"numpy"``                      a plain ndarray: the ufunc itself
``"torch"``, ``"jax"``, ``"cupy"``  their library's array: ``actgrad.backends.xp``
``"dask"``, ``"xarray"``, ``"masked"``
                                 containers: the ufunc through
                                 ``__array_ufunc__`` elementwise, an adapter of
                                 ``backends.containers`` along an axis
``"pint"``, ``"astropy"``        quantities: the ufunc, once registered with
                                 their library (``backends.quantities``)
``"other"``                      scalars, sequences, anything else: the ufunc

Among several arguments the array libraries win (torch, JAX, CuPy: the
result is theirs), then the containers, then the quantities, each by the
first argument of that rank.
"""

from __future__ import annotations

import numpy as np

#: first component of a type's module -> its kind
_ROOTS = {"torch": "torch", "jax": "jax", "jaxlib": "jax", "cupy": "cupy",
          "dask": "dask", "xarray": "xarray", "pint": "pint", "astropy": "astropy"}
#: the attribute that holds a quantity's unit, per library
UNIT_ATTRIBUTE = {"pint": "units", "astropy": "unit"}
OWN_LIBRARIES = frozenset({"torch", "jax", "cupy"})
CONTAINERS = frozenset({"dask", "xarray", "masked"})
QUANTITIES = frozenset(UNIT_ATTRIBUTE)
_RANK = {**dict.fromkeys(OWN_LIBRARIES, 0), **dict.fromkeys(CONTAINERS, 1),
         **dict.fromkeys(QUANTITIES, 2), "numpy": 3, "other": 3}

_BY_TYPE: dict[type, str] = {np.ndarray: "numpy"}


def kind_of_type(cls: type) -> str:
    """The kind of every instance of `cls` (cached)."""
    kind = _BY_TYPE.get(cls)
    if kind is None:
        kind = _BY_TYPE[cls] = _decide(cls)
    return kind


def _decide(cls: type) -> str:
    if issubclass(cls, np.ma.MaskedArray):
        return "masked"
    for base in cls.__mro__:  # subclasses of a library's array are its arrays
        kind = _ROOTS.get(getattr(base, "__module__", "").partition(".")[0])
        if kind in QUANTITIES:
            return kind if hasattr(cls, UNIT_ATTRIBUTE[kind]) else "other"
        if kind is not None:
            return kind
    return "other"


def kind_of(arrays) -> str:
    """The kind that serves these arguments together."""
    best, rank = "numpy", 3
    for a in arrays:
        kind = kind_of_type(type(a))
        r = _RANK[kind]
        if r < rank:
            best, rank = kind, r
            if r == 0:
                break
    return best


def is_quantity(a) -> bool:
    """Whether `a` is a pint or astropy quantity."""
    return kind_of_type(type(a)) in QUANTITIES
