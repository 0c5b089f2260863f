"""actgrad: activation functions with exact derivatives, as NumPy ufuncs.

For every activation NAME: ``NAME(x)``, ``NAME_grad(x)``, ``NAME_grad2(x)``
and ``NAME_backward(grad_output, x)``.

>>> import numpy as np, actgrad as ag
>>> ag.relu_grad(np.array([-1.0, 0.0, 2.0]))
array([0., 0., 1.])
"""

from . import ufuncs
from ._api import *  # noqa: F403
from ._api import __all__ as _functions
from .backends.quantities import register_quantity_types
from ._threads import get_num_threads, set_num_threads, threads
from . import _bfloat16, _threads
from .backends import native as _native

_threads._install()
_bfloat16._install()
_native._install()

__version__ = "0.1.0"
__all__ = [*_functions, "register_quantity_types", "ufuncs", "set_num_threads", "get_num_threads",
           "threads"]
