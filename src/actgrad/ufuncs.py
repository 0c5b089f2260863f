"""The raw ufuncs behind every actgrad function.

For an activation without parameters the ufunc is the public function
itself.  For one with parameters, the ufunc takes them as trailing inputs
(``leaky_relu(x, negative_slope)``), so they broadcast against ``x``.
"""

from ._ufuncs import *  # noqa: F403
from . import _ufuncs

__all__ = sorted(name for name in dir(_ufuncs) if not name.startswith("_"))
