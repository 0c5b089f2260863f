"""The Array API kernels: every activation written once against ``xp``.

torch tensors, JAX arrays and CuPy arrays never reach the C++ ufuncs; they are
computed by their own library (see ``actgrad._xp``).  Each class below is the
Array API twin of the C++ kernel struct of the same name in
``src/kernels/*.hpp`` (the table's ``Activation.kernel_struct``): static
``f``, ``df`` and ``d2f`` taking ``(xp, x, *params)``, written as the same
chain of selects, so that NaN propagation, -0.0 and the conventions at kinks
are those of the ufuncs, bit for bit.  ``x`` arrives in its compute dtype
(float16 and bfloat16 are computed in float32) and every scalar parameter as
a Python float already rounded to that dtype, so ``x * slope`` rounds exactly
as the C++ loop does.  A parameter may also be an array of the compute dtype.

The backward pass is not declared here: it is ``select_backward`` over
``df``, as in ``forms.hpp``.

Adding an activation to the table takes one class here, named like its C++
struct.  A class may also declare ``native``: backend name -> function
``(module, x, *params)`` that computes ``f`` with the library's own function,
for the backends where that function's results are the same as ``f`` here
(the tests hold every such declaration against the NumPy ufunc, signs of
zeros and NaN included).  Derivatives always come from the class, so
autograd through actgrad's functions follows actgrad's conventions.

This module imports nothing: it only receives namespaces.
"""

from __future__ import annotations

__all__ = ["KERNELS", "kernel_for", "nan_or", "select", "select_backward", "special"]


def select(xp, cond, a, b):
    """``a where cond else b``; ``cond`` may be a Python bool (scalar parameters)."""
    if isinstance(cond, bool):
        return a if cond else b
    return xp.where(cond, a, b)


def nan_or(xp, x, value):
    """``value``, except NaN where ``x`` is NaN (common.hpp's ``nan_or``)."""
    return xp.where(xp.isnan(x), x, value)


def select_backward(xp, g, d):
    """``g * d``, except exactly 0 where ``d == 0`` (forms.hpp's backward)."""
    return xp.where(d == 0, 0, g * d)


def piecewise_linear_grad2(xp, x):
    return nan_or(xp, x, 0)


def special(xp, name: str):
    """A special function outside the Array API standard (``erf``, ``erfc``,
    ...), from the library behind ``xp``: ``special(xp, "erfc")(x)``."""
    module = getattr(xp, "__name__", "")
    if "torch" in module:
        import torch

        return getattr(torch.special, name)
    if module.startswith("jax"):
        import jax.scipy.special

        return getattr(jax.scipy.special, name)
    if "cupy" in module:
        import cupyx.scipy.special

        return getattr(cupyx.scipy.special, name)
    import scipy.special

    return getattr(scipy.special, name)


# --- the piecewise-linear family (src/kernels/piecewise_linear.hpp) ---------


class relu:
    @staticmethod
    def f(xp, x):
        return xp.where(x <= 0, 0, x)

    @staticmethod
    def df(xp, x):
        return xp.where(x > 0, 1, nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x):
        return piecewise_linear_grad2(xp, x)

    # jax.nn.relu is maximum(x, 0): NaN stays NaN and -0.0 becomes +0.0.
    # (torch.relu keeps -0.0, so torch takes the select above.)
    native = {"jax": lambda jax, x: jax.nn.relu(x)}


class relu6:
    @staticmethod
    def f(xp, x):
        return xp.where(x <= 0, 0, xp.where(x >= 6, 6, x))

    @staticmethod
    def df(xp, x):
        return xp.where((x > 0) & (x < 6), 1, nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x):
        return piecewise_linear_grad2(xp, x)

    native = {"jax": lambda jax, x: jax.nn.relu6(x)}


class leaky_relu:
    @staticmethod
    def f(xp, x, slope):
        # slope == 0 is relu: select 0 rather than compute -inf * 0 = NaN.
        return xp.where(x > 0, x, select(xp, slope == 0, nan_or(xp, x, 0), x * slope))

    @staticmethod
    def df(xp, x, slope):
        return xp.where(x > 0, 1, nan_or(xp, x, slope))

    @staticmethod
    def d2f(xp, x, slope):
        return piecewise_linear_grad2(xp, x)


class hardtanh:
    @staticmethod
    def f(xp, x, lo, hi):
        return xp.where(x <= lo, lo, xp.where(x >= hi, hi, x))

    @staticmethod
    def df(xp, x, lo, hi):
        return xp.where((x > lo) & (x < hi), 1, nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x, lo, hi):
        return piecewise_linear_grad2(xp, x)

    # Not torch.clamp nor jnp.clip: hardtanh(-0.0, min_val=0.0) is +0.0 here,
    # -0.0 from torch.clamp; jnp.clip(0.0, -0.0, 0.0) is +0.0, here -0.0.


class threshold:
    @staticmethod
    def f(xp, x, th, value):
        return xp.where(x > th, x, nan_or(xp, x, value))

    @staticmethod
    def df(xp, x, th, value):
        return xp.where(x > th, 1, nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x, th, value):
        return piecewise_linear_grad2(xp, x)


class hardshrink:
    @staticmethod
    def f(xp, x, lambd):
        return xp.where((x >= -lambd) & (x <= lambd), 0, x)

    @staticmethod
    def df(xp, x, lambd):
        return xp.where((x >= -lambd) & (x <= lambd), 0, nan_or(xp, x, 1))

    @staticmethod
    def d2f(xp, x, lambd):
        return piecewise_linear_grad2(xp, x)

    native = {"torch": lambda torch, x, lambd: torch.nn.functional.hardshrink(x, lambd)}


class softshrink:
    @staticmethod
    def f(xp, x, lambd):
        return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, nan_or(xp, x, 0)))

    @staticmethod
    def df(xp, x, lambd):
        return xp.where((x > lambd) | (x < -lambd), 1, nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x, lambd):
        return piecewise_linear_grad2(xp, x)


KERNELS: dict[str, type] = {
    name: obj for name, obj in list(globals().items())
    if isinstance(obj, type) and hasattr(obj, "f") and hasattr(obj, "df")
}


def kernel_for(act):
    """The Array API kernel of a table entry, or a clear error if none is declared."""
    try:
        return KERNELS[act.kernel_struct]
    except KeyError:
        raise NotImplementedError(
            f"actgrad.{act.name} has no Array API kernel yet, so it cannot compute "
            f"on torch, JAX or CuPy arrays; declare class {act.kernel_struct} in "
            "actgrad/_xp_kernels.py (or pass a NumPy array)"
        ) from None
