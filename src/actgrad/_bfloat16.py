"""bfloat16 (``ml_dtypes.bfloat16``) support, without importing ml_dtypes.

Every ufunc has a bfloat16 loop (computed in float32, rounded once to
nearest even); it is registered for ml_dtypes' type number, which exists
only once ml_dtypes is imported.  That happens here when actgrad is imported
after ml_dtypes, and otherwise in the ufuncs' type resolver the first time a
bfloat16 array arrives (src/ufuncs/module.cpp).
"""

from __future__ import annotations

import sys

from . import _ufuncs


def register() -> None:
    """Register the bfloat16 loops now (imports ml_dtypes)."""
    import ml_dtypes
    import numpy as np

    _ufuncs._register_bfloat16(np.dtype(ml_dtypes.bfloat16))


def _install() -> None:
    if "ml_dtypes" in sys.modules:
        register()
