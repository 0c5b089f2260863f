"""The public functions of the activations along an axis.

Each is a thin function over a ufunc of ``actgrad._ufuncs``, written once per
calling convention of the table (``AxisActivation.convention``):

``axis``     softmax, log_softmax: a gufunc ``(n)->(n)`` called with
             ``axes=`` from ``axis=``;
``halves``   glu: the axis split into halves, ``x.reshape(..., 2, n)`` (a
             view), for a gufunc ``(2,n)->(n)``;
``channel``  prelu: a weight of one element or one per channel (axis 1),
             reshaped to broadcast against x for an elementwise ufunc; the
             backward pass is a gufunc over x viewed as (batch, channel, rest)
             that also sums grad_weight.

Without ``out=``, the result is allocated like x (``np.empty_like``), so that
it keeps x's memory layout whichever axis the rows run along.

torch tensors, JAX arrays and CuPy arrays are computed by their own library
(``_xp.compute_axis`` with the kernels of ``xp_axis``), the axis counted
from the end as here; dask arrays, xarray objects and masked arrays by an
adapter of ``backends.containers`` around the NumPy function.
"""

from __future__ import annotations

import math
import operator

import numpy as np
from numpy.exceptions import AxisError

from . import _ufuncs
from .backends import containers as _containers, kinds as _kinds, quantities as _quantities, xp as _xp
from ._table import AXIS_ACTIVATIONS, AxisActivation, AxisForm
from .backends.xp_axis import prelu_weight_shape

# The result dtype of one input dtype (by dtype.char): floats keep theirs,
# bool and integers give float64.  Other kinds are left to the ufunc, which
# raises TypeError naming the function and the dtype.
RESULT_DTYPE = {c: np.dtype(c) for c in "efdg"}
RESULT_DTYPE.update({c: np.dtype("d") for c in "?bBhHiIlLqQ"})


def normalize_axis_index(axis, ndim, name):
    """axis as an index in [0, ndim); errors name the function (an axis that
    is no integer, such as None, is a TypeError; one out of range, however
    large, NumPy's AxisError)."""
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name}: axis must be an integer, got {axis!r}") from None
    if not -ndim <= axis < ndim:
        raise AxisError(axis, ndim, name)
    return axis % ndim


def _ndim(a) -> int:
    """a.ndim, or np.ndim(a) for a scalar or sequence (torch.compile traces
    the first, not NumPy's function)."""
    n = getattr(a, "ndim", None)
    return n if type(n) is int else np.ndim(a)


def _shape(a) -> tuple:
    shape = getattr(a, "shape", None)
    return tuple(shape) if shape is not None and type(getattr(a, "ndim", None)) is int \
        else np.shape(a)


def _array(x, name):
    """x itself if it is an array or speaks __array_ufunc__ (and has a
    shape), else np.asarray(x)."""
    if type(x) is np.ndarray:
        return x
    if hasattr(x, "__array_ufunc__"):
        if not hasattr(x, "shape"):
            raise TypeError(f"{name}: {type(x).__name__} has __array_ufunc__ but no shape; "
                            "pass an array")
        return x
    return np.asarray(x)


def _single_out(out, name):
    if type(out) is tuple:
        if len(out) != 1:
            raise ValueError(f"{name}: out must be an array or a tuple of one array, "
                             f"got a tuple of {len(out)}")
        return out[0]
    return out


def _new_out(x, *others, shape=None):
    """An output like x (layout, shape or `shape`), or None to let the ufunc allocate."""
    if type(x) is not np.ndarray:
        return None
    if any(type(o) is not np.ndarray or o.dtype.char not in RESULT_DTYPE for o in others) \
            or x.dtype.char not in RESULT_DTYPE:
        return None  # (datetime64, str, ...: the ufunc's TypeError names the function)
    dtype = np.result_type(x.dtype, *(o.dtype for o in others))
    result = RESULT_DTYPE.get(dtype.char)
    if result is None:
        return None
    return np.empty_like(x, dtype=result, shape=shape)


def _elsewhere(act, form, arrays):
    """Who computes, when not the gufunc on NumPy arrays: "torch", "jax" or
    "cupy" (their own library), "dask", "xarray", "masked" or "quantity" (an
    adapter of ``backends.containers``), or None (the ufunc)."""
    kind = _kinds.kind_of(arrays)
    if kind in _kinds.OWN_LIBRARIES:
        return kind
    return _containers.adapter_for(act, form, kind)


def _compute_elsewhere(where, numpy_function, act, form, arrays, axis, out, ufunc_kwargs):
    keywords = {**({"out": out} if out is not None else {}), **ufunc_kwargs}
    if where in _containers.KINDS:
        if keywords:
            raise TypeError(f"actgrad.{act.function_name(form)}: {', '.join(keywords)} "
                            f"apply to NumPy arrays only, not to {where} arrays")
        return _containers.compute(where, numpy_function, act, form, arrays, axis)
    _xp.refuse_numpy_keywords(act.function_name(form), where, (), keywords)
    return _xp.compute_axis(where, act, form, arrays, axis)


def _axis_functions(act: AxisActivation, form: AxisForm, ufunc):
    name = act.function_name(form)
    if form.kind == "f":

        def function(x, axis=-1, *, out=None, **ufunc_kwargs):
            if (type(x) is np.ndarray and type(axis) is int and axis == -1 and out is None
                    and not ufunc_kwargs and x.flags.c_contiguous and x.ndim):
                return ufunc(x)  # the gufunc's own defaults: last axis, C order
            where = _elsewhere(act, form, (x,))
            if where is not None:
                ax = normalize_axis_index(axis, _ndim(x), name) - _ndim(x)
                return _compute_elsewhere(where, function, act, form, (x,), ax, out,
                                          ufunc_kwargs)
            x = _array(x, name)
            # Counted from the end, as everywhere here, so that an out= with
            # more leading axes than x broadcasts as for any ufunc.
            ax = normalize_axis_index(axis, x.ndim, name) - x.ndim
            out = _single_out(out, name)
            if out is None and not ufunc_kwargs:
                out = _new_out(x)
            return ufunc(x, axes=[(ax,), (ax,)], out=out, **ufunc_kwargs)

    else:

        def function(grad_output, x, axis=-1, *, out=None, **ufunc_kwargs):
            where = _elsewhere(act, form, (grad_output, x))
            g, x = (grad_output, x) if where else (_array(grad_output, name), _array(x, name))
            nd = max(_ndim(g), _ndim(x))
            # Counted from the end, so that it names the same axis in every
            # operand after broadcasting.
            ax = normalize_axis_index(axis, nd, name) - nd
            if where is not None:
                return _compute_elsewhere(where, function, act, form, (g, x), ax, out,
                                          ufunc_kwargs)
            out = _single_out(out, name)
            if out is None and not ufunc_kwargs and g.shape == x.shape:
                out = _new_out(x, g)
            return ufunc(g, x, axes=[(ax,), (ax,), (ax,)], out=out, **ufunc_kwargs)

    return function


def _halved_axis(name, shape, axis):
    """The index of `axis` in `shape`, and the length of its halves."""
    ax = normalize_axis_index(axis, len(shape), name)
    length = shape[ax]
    if length % 2:
        raise ValueError(
            f"{name}: the axis to split in halves must have even length, "
            f"got axis {axis} of length {length}"
        )
    return ax, length // 2


def _split_axis(name, x, axis):
    """x with `axis` split into (2, n) (a view), the axis index, and n."""
    ax, half = _halved_axis(name, x.shape, axis)
    return x.reshape(x.shape[:ax] + (2, half) + x.shape[ax + 1:]), ax, half


def _halves_functions(act: AxisActivation, form: AxisForm, ufunc):
    name = act.function_name(form)
    if form.kind == "f":

        def function(x, axis=-1, *, out=None, **ufunc_kwargs):
            where = _elsewhere(act, form, (x,))
            if where is not None:
                ax = _halved_axis(name, _shape(x), axis)[0] - _ndim(x)
                return _compute_elsewhere(where, function, act, form, (x,), ax, out,
                                          ufunc_kwargs)
            x = _array(x, name)
            xs, ax, half = _split_axis(name, x, axis)
            neg = ax - x.ndim
            out = _single_out(out, name)
            if out is None and not ufunc_kwargs:
                out = _new_out(x, shape=x.shape[:ax] + (half,) + x.shape[ax + 1:])
            return ufunc(xs, axes=[(neg - 1, neg), (neg,)], out=out, **ufunc_kwargs)

    else:

        def function(grad_output, x, axis=-1, *, out=None, **ufunc_kwargs):
            where = _elsewhere(act, form, (grad_output, x))
            if where is not None:
                ax = _halved_axis(name, _shape(x), axis)[0] - _ndim(x)
                return _compute_elsewhere(where, function, act, form, (grad_output, x), ax,
                                          out, ufunc_kwargs)
            g, x = _array(grad_output, name), _array(x, name)
            xs, ax, half = _split_axis(name, x, axis)
            neg = ax - x.ndim  # from the end: the same axis in g, x and out
            out = _single_out(out, name)
            if out is None and not ufunc_kwargs and g.shape == x.shape[:ax] + (half,) + x.shape[ax + 1:]:
                out = _new_out(x, g)
            if out is None:
                result = ufunc(g, xs, axes=[(neg,), (neg - 1, neg), (neg - 1, neg)],
                               **ufunc_kwargs)
                return result.reshape(result.shape[:neg - 1] + (2 * half,)
                                      + result.shape[len(result.shape) + neg + 1:])
            if not isinstance(out, np.ndarray):
                raise TypeError(f"{name}: out must be an ndarray, got {type(out).__name__}")
            oax = normalize_axis_index(neg, out.ndim, name)
            if out.shape[oax] != 2 * half:
                raise ValueError(
                    f"{name}: out has shape {out.shape}, but the result's axis {axis} "
                    f"has length {2 * half}"
                )
            outs = out.reshape(out.shape[:oax] + (2, half) + out.shape[oax + 1:])
            ufunc(g, xs, axes=[(neg,), (neg - 1, neg), (neg - 1, neg)], out=outs,
                  **ufunc_kwargs)
            return out

    return function


def _prelu_weight(name, x_shape, weight, *, for_broadcast):
    """weight checked against x's channels; reshaped to broadcast along axis 1
    (for_broadcast) or to one element per channel."""
    if type(weight) in (int, float):  # a Python scalar stays weak in promotion
        if for_broadcast:
            return weight
        weight = np.asarray(weight)
    # a quantity stays one (pint would strip its unit in np.asarray)
    w = weight if _quantities.is_quantity(weight) else np.asarray(weight)
    if w.dtype.kind not in "biuf" and w.dtype.name != "bfloat16":
        # Let the ufunc raise its TypeError naming the function and dtype.
        return w if for_broadcast else w.reshape(-1)
    shape = prelu_weight_shape(name, x_shape, w.shape)
    if for_broadcast:
        return w.reshape(shape)
    channels = x_shape[1] if len(x_shape) >= 2 else 1
    return np.broadcast_to(w.reshape(-1), (channels,))


def _check_grad_output(name, g_shape, x_shape):
    try:
        fits = np.broadcast_shapes(tuple(g_shape), tuple(x_shape)) == tuple(x_shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name}: grad_output of shape {tuple(g_shape)} does not broadcast to x's "
            f"shape {tuple(x_shape)}"
        )


def _channel_functions(act: AxisActivation, form: AxisForm, ufunc):
    name = act.function_name(form)
    if form.kind != "backward":

        def function(x, weight, **ufunc_kwargs):
            if type(x) is np.ndarray and type(weight) is float:
                if x.dtype.kind == "V":  # bfloat16: a float would pick the float32 loop
                    weight = np.asarray(weight, x.dtype)
                return ufunc(x, weight, **ufunc_kwargs)  # one weight: nothing to shape
            where = _elsewhere(act, form, (x, weight))
            if where is not None:
                return _compute_elsewhere(where, function, act, form, (x, weight), None, None,
                                          ufunc_kwargs)
            x = _array(x, name)
            w = _prelu_weight(name, _shape(x), weight, for_broadcast=True)
            return ufunc(x, w, **ufunc_kwargs)

        return function

    def function(grad_output, x, weight):
        where = _elsewhere(act, form, (grad_output, x, weight))
        if where is not None:
            _check_grad_output(name, _shape(grad_output), _shape(x))
            return _compute_elsewhere(where, function, act, form, (grad_output, x, weight),
                                      None, None, {})
        x = np.asarray(x)
        g = np.asarray(grad_output)
        w_in = weight if type(weight) not in (int, float) else np.asarray(
            weight, dtype=np.result_type(g.dtype, x.dtype, weight))
        w = _prelu_weight(name, x.shape, w_in, for_broadcast=False)
        _check_grad_output(name, g.shape, x.shape)
        g = np.broadcast_to(g, x.shape)
        if x.ndim >= 2:
            view = (x.shape[0], x.shape[1], math.prod(x.shape[2:]))
        else:
            view = (1, 1, x.size)
        # Merging the trailing axes is a view unless x's strides forbid it.
        grad_input, grad_weight = ufunc(g.reshape(view), x.reshape(view), w,
                                        axes=[(0, 1, 2), (0, 1, 2), (0,), (0, 1, 2), (0,)])
        shape = _shape(w_in)
        if w.shape != shape or np.size(w_in) != grad_weight.size:  # one weight for all
            with np.errstate(invalid="ignore"):  # inf + -inf is NaN, quietly
                grad_weight = grad_weight.sum(dtype=grad_weight.dtype)
        return grad_input.reshape(x.shape), np.asarray(grad_weight).reshape(shape)

    return function


_CONVENTIONS = {"axis": _axis_functions, "halves": _halves_functions,
                "channel": _channel_functions}


#: name -> public function, for every form of every activation along an axis
FUNCTIONS: dict = {}


def public_functions():
    """(name, function) for every form of every activation along an axis."""
    for act in AXIS_ACTIVATIONS:
        for form in act.forms:
            name = act.function_name(form)
            function = _CONVENTIONS[act.convention](act, form, getattr(_ufuncs, name))
            function.__name__ = function.__qualname__ = name
            function.__module__ = "actgrad"
            function.__doc__ = act.docstring(form)
            function.ufunc = getattr(_ufuncs, name)
            FUNCTIONS[name] = function
            yield name, function
