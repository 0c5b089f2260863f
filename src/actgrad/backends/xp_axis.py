"""The activations along an axis, written once against ``xp``.

The Array API twins of the row kernels of ``src/kernels/axis.hpp``, for
torch tensors, JAX arrays and CuPy arrays (``actgrad.backends.xp`` runs them, inside
``torch.autograd.Function`` / ``jax.custom_jvp`` objects for autograd).  The
same conventions as the ufuncs: a row of -inf gives softmax zeros (log_softmax
-inf) and zero gradients, entries at +inf share their row, NaN anywhere in a
row gives a NaN row; glu's and prelu's flat pieces swallow any grad_output.

Each class has ``f``, ``backward`` and, for JAX's forward mode, ``jvp``: the
derivative applied to a tangent ``t``, linear in ``t`` (selects between a
constant 0 and a multiple of ``t``), so that JAX can transpose it for
``jax.grad``.  float32 is computed in float64 where the library has it, then
rounded once (the C++ kernels use compensated sums instead).

This module imports nothing: it only receives namespaces.
"""

from __future__ import annotations

import math

from .xp_kernels import _widen, leaky_relu, select_backward

__all__ = ["AXIS_KERNELS", "prelu_weight_shape"]


def _narrowed(fn):
    """fn(xp, *arrays, axis) computed on widened arrays, results in arrays[-1]'s dtype."""
    def wrapped(xp, *args):
        *arrays, axis = args
        dtype = arrays[-1].dtype
        out = fn(xp, *(_widen(xp, a) for a in arrays), axis)
        return out if out.dtype == dtype else xp.astype(out, dtype)
    return staticmethod(wrapped)


# --- softmax, log_softmax ---------------------------------------------------


def _rows(xp, x, axis):
    """The terms of every row, as axis.hpp's passes 1 and 2 form them.

    Returns (special, masked, hi, lo, e, tops, rest): ``special`` marks rows
    with a NaN, ``masked`` rows of -inf; x - max = hi + lo exactly (TwoSum);
    e = exp(x - max); the row's sum is tops + rest, where tops counts the
    entries equal to the maximum (each term exactly 1) and rest sums the others.
    """
    nan = xp.any(xp.isnan(x), axis=axis, keepdims=True)
    m = xp.max(xp.where(xp.isnan(x), -math.inf, x), axis=axis, keepdims=True)
    masked = m == -math.inf
    m = xp.where(masked, 0, m)
    top = x == m
    hi = x - m
    bb = hi - x
    lo = (x - (hi - bb)) + (-m - bb)
    hi = xp.where(top, 0, hi)
    lo = xp.where(top | ~(hi > -math.inf), 0, lo)
    e = xp.exp(hi)
    e = e + e * lo
    # 1 in a masked row, whose terms are all 0: a finite 0 / 1, not 0 / 0,
    # keeps NaN out of the gradients JAX derives from the rules below.
    tops = xp.where(masked, 1, xp.sum(xp.astype(top, x.dtype), axis=axis, keepdims=True))
    rest = xp.sum(xp.where(top, 0, e), axis=axis, keepdims=True)
    return nan, masked, hi, lo, e, tops, rest


def _special(xp, nan, masked, masked_value, value):
    return xp.where(nan, math.nan, xp.where(masked, masked_value, value))


def _softmax(xp, x, axis):
    """(s, nan rows, masked rows)."""
    nan, masked, _, _, e, tops, rest = _rows(xp, x, axis)
    return e / (tops + rest), nan, masked


class softmax:
    @staticmethod
    def _f(xp, x, axis):
        s, nan, masked = _softmax(xp, x, axis)
        return _special(xp, nan, masked, 0.0, s)

    @staticmethod
    def _backward(xp, g, x, axis):
        # grad_x = s * (g - sum(g * s)), 0 where s is 0 whatever g.
        s, nan, masked = _softmax(xp, x, axis)
        gs = xp.sum(select_backward(xp, g, s), axis=axis, keepdims=True)
        return _special(xp, nan, masked, 0.0, select_backward(xp, g - gs, s))

    f = _narrowed(_f.__func__)
    backward = _narrowed(_backward.__func__)
    jvp = backward  # the Jacobian diag(s) - s s^T is symmetric


class log_softmax:
    @staticmethod
    def _f(xp, x, axis):
        # (x - m) - log(sum), the log-sum-exp as log1p of every term but one top.
        nan, masked, hi, lo, _, tops, rest = _rows(xp, x, axis)
        lse = xp.log1p((tops - 1) + rest)
        return _special(xp, nan, masked, -math.inf, (hi - lse) + lo)

    @staticmethod
    def _backward(xp, g, x, axis):
        # grad_x = g - s * sum(g): g itself where s is 0.
        s, nan, masked = _softmax(xp, x, axis)
        total = xp.sum(g, axis=axis, keepdims=True)
        return _special(xp, nan, masked, 0.0, g - select_backward(xp, total, s))

    @staticmethod
    def _jvp(xp, t, x, axis):
        # The transpose of the backward pass: t - sum(s * t).
        s, nan, masked = _softmax(xp, x, axis)
        return _special(xp, nan, masked, 0.0,
                        t - xp.sum(select_backward(xp, t, s), axis=axis, keepdims=True))

    f = _narrowed(_f.__func__)
    backward = _narrowed(_backward.__func__)
    jvp = _narrowed(_jvp.__func__)


# --- glu --------------------------------------------------------------------


def _halves(xp, x, axis):
    half = x.shape[axis] // 2
    lead = (slice(None),) * (axis % x.ndim)
    return x[lead + (slice(0, half),)], x[lead + (slice(half, None),)]


def _exp_subnormal_below(dtype_bits):
    # log of the smallest normal number: below it exp(x) is subnormal.
    return {16: -9.704060527839234, 32: -87.33654475055310,
            64: -708.3964185322641}[dtype_bits]


def _mul_sigmoid(xp, a, b, bits):
    """a * sigmoid(b) from e = exp(-|b|) (axis.hpp's mul_sigmoid)."""
    nb = -xp.abs(b)
    t = xp.exp(nb / 2)
    e = xp.exp(nb)
    tiny = xp.where(b > 0, a, (a * t) * t)
    usual = xp.where(b >= 0, a, a * e) / (1 + e)
    return xp.where(nb < _exp_subnormal_below(bits), tiny, usual)


def _mul_dsigmoid(xp, g, a, b, bits):
    """g * a * sigmoid'(b), sigmoid'(b) = e / (1 + e)^2 (axis.hpp's mul_dsigmoid)."""
    nb = -xp.abs(b)
    t = xp.exp(nb / 2)
    e = xp.exp(nb)
    q = 1 + e
    return xp.where(nb < _exp_subnormal_below(bits), (g * t) * (a * t), (g * (e / (q * q))) * a)


def _bits(xp, x):
    return xp.finfo(x.dtype).bits


class glu:
    @staticmethod
    def _f(xp, x, axis):
        a, b = _halves(xp, x, axis)
        r = _mul_sigmoid(xp, a, b, _bits(xp, x))
        # a = +-inf gives +-inf for any b but -inf and NaN (sigmoid(b) > 0).
        return xp.where((xp.abs(a) == math.inf) & (b > -math.inf), a, r)

    @staticmethod
    def _grads(xp, ga, gb, x, axis):
        """(ga * d/da, gb * d/db): 0 where the derivative is 0, NaN where a or b is."""
        a, b = _halves(xp, x, axis)
        bits = _bits(xp, x)
        nan = xp.isnan(a) | xp.isnan(b)
        grad_a = xp.where((b == -math.inf) & ~nan, 0,
                          xp.where(xp.isnan(a), ga * a, _mul_sigmoid(xp, ga, b, bits)))
        flat = (a == 0) | (xp.abs(b) == math.inf)
        grad_b = xp.where(flat & ~nan, 0, _mul_dsigmoid(xp, gb, a, b, bits))
        return grad_a, grad_b

    @staticmethod
    def _backward(xp, g, x, axis):
        return xp.concat(glu._grads(xp, g, g, x, axis), axis=axis)

    @staticmethod
    def _jvp(xp, t, x, axis):
        ta, tb = _halves(xp, t, axis)
        grad_a, grad_b = glu._grads(xp, ta, tb, x, axis)
        return grad_a + grad_b

    f = _narrowed(_f.__func__)
    backward = _narrowed(_backward.__func__)
    jvp = _narrowed(_jvp.__func__)


# --- prelu ------------------------------------------------------------------


def prelu_weight_shape(name, x_shape, w_shape):
    """The shape that broadcasts a weight of `w_shape` along axis 1 of x.

    One element is used everywhere, else one per channel (x.shape[1], 1-D), as
    in PyTorch; anything else raises ValueError naming the function."""
    w_size = math.prod(w_shape)
    if w_size == 1:
        return ()
    if len(w_shape) == 1 and len(x_shape) >= 2 and w_shape[0] == x_shape[1]:
        return (w_shape[0],) + (1,) * (len(x_shape) - 2)
    raise ValueError(
        f"{name}: weight must have 1 element or one per channel (x.shape[1], 1-D); "
        f"got weight of shape {tuple(w_shape)} for x of shape {tuple(x_shape)}"
    )


def _sum_to(xp, v, shape):
    """v summed over the axes that broadcasting added or stretched to reach it."""
    lead = v.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and v.shape[lead + i] != 1)
    s = xp.sum(v, axis=axes, keepdims=True) if axes else v
    return xp.reshape(s, shape)


class prelu:
    """x and w arrive in the compute dtype, w already shaped to broadcast; the
    axis argument of the other kernels is None here."""

    @staticmethod
    def f(xp, x, w, axis=None):
        return leaky_relu.f(xp, x, w)

    @staticmethod
    def grad(xp, x, w, axis=None):
        return leaky_relu.df(xp, x, w)

    @staticmethod
    def dw(xp, x):
        # d/dw = x for x < 0, else 0 (NaN for NaN).
        return xp.where(x >= 0, 0, x)

    @staticmethod
    def backward(xp, g, x, w, axis=None):
        """(grad_input, grad_weight), grad_weight of w's (broadcasting) shape."""
        grad_input = select_backward(xp, g, prelu.grad(xp, x, w))
        g_w = select_backward(xp, g, prelu.dw(xp, x))
        wide = _widen(xp, g_w)
        grad_weight = _sum_to(xp, wide, tuple(getattr(w, "shape", ())))
        return grad_input, xp.astype(grad_weight, g_w.dtype)

    @staticmethod
    def jvp(xp, tx, tw, x, w, axis=None):
        return (select_backward(xp, tx, prelu.grad(xp, x, w))
                + select_backward(xp, tw, prelu.dw(xp, x)))


AXIS_KERNELS: dict[str, type] = {"softmax": softmax, "log_softmax": log_softmax,
                                 "glu": glu, "prelu": prelu}


# --- appended: softmin (axis.hpp's softmin: softmax at -x) ------------------


class softmin:
    @staticmethod
    def f(xp, x, axis):
        return softmax.f(xp, -x, axis)

    @staticmethod
    def backward(xp, g, x, axis):
        # minus softmax's Jacobian at -x (-0.0 where s is 0, as axis.hpp)
        return -softmax.backward(xp, g, -x, axis)

    jvp = backward  # the Jacobian -(diag(s) - s s^T) is symmetric


AXIS_KERNELS["softmin"] = softmin
