"""The activations along an axis on dask arrays, xarray objects and masked arrays.

The elementwise functions reach these through ``__array_ufunc__``; a whole
row does not: dask would need the axis in one chunk, xarray refuses
generalized ufuncs, and a masked array would let its masked entries take part
in the row's sums.  Each container here gets its own adapter around the
NumPy function (``numpy_function``, called with NumPy arrays and ``axis=``
counted from the end):

dask     lazy: each operand rechunked to one chunk along the axis, then
         ``dask.array.blockwise`` over the blocks (whole rows); prelu's
         backward pass as dask operations, grad_weight a dask sum.
xarray   ``xarray.apply_ufunc`` over the named dimension, coordinates and
         attributes kept (glu drops the coordinate of the dimension it halves).
masked   masked entries are absent: x is -inf there for softmax/log_softmax
         (+inf for softmin: the table's AxisActivation.absent)
         (it takes no share of the row) and grad_output 0 (it adds nothing);
         the result is masked where any input was.
quantity pint and astropy, for prelu's backward pass (the other forms are
         registered ufuncs): x and weight dimensionless, both gradients in
         grad_output's units.
"""

from __future__ import annotations

import math

import numpy as np

from . import kinds as _kinds, quantities as _quantities



def adapter_for(act, form, kind) -> str | None:
    """The adapter for arrays of this kind (``backends.kinds``), or None where the
    ufunc protocol serves: prelu and prelu_grad are ufuncs, and pint and
    astropy quantities take the gufuncs once they are registered
    (``backends.quantities``)."""
    if kind in _kinds.QUANTITIES:
        _quantities.register(kind)
        kind = "quantity"
    elif kind not in _kinds.CONTAINERS:
        kind = None
    if act.convention == "channel":
        return kind if form.kind == "backward" else None
    return None if kind == "quantity" else kind


def compute(kind, numpy_function, act, form, arrays, axis):
    return _ADAPTERS[kind](numpy_function, act, form, arrays, axis)


def _result_dtype(arrays):
    from .._axis import RESULT_DTYPE  # at call time: _axis imports this module

    dtype = np.result_type(*(getattr(a, "dtype", np.asarray(a).dtype) for a in arrays))
    return RESULT_DTYPE.get(dtype.char, dtype)


# --- dask -------------------------------------------------------------------


def _dask(numpy_function, act, form, arrays, axis):
    import dask.array as da

    if act.convention == "channel":
        return _dask_prelu_backward(da, act, form, arrays)
    arrays = [da.asarray(a) for a in arrays]
    nd = max(a.ndim for a in arrays)
    loop = "abcdefghijklmnopqrstuvwxyz"[:nd]
    x = arrays[-1]
    # the result's core axis: x's, but for glu's halved one ("O", new)
    out_core = "X" if form.kind == "backward" or act.convention == "axis" else "O"
    pairs = []
    for a, core in zip(arrays, "GX"[-len(arrays):]):
        index = list(loop[nd - a.ndim:])
        index[a.ndim + axis] = core
        pairs += [a.rechunk({a.ndim + axis: -1}), "".join(index)]
    out_index = list(loop)
    out_index[nd + axis] = out_core
    return da.blockwise(
        lambda *blocks: numpy_function(*blocks, axis=axis), "".join(out_index), *pairs,
        dtype=_result_dtype(arrays), concatenate=True,
        new_axes={"O": x.shape[axis] // 2} if out_core == "O" else None,
        meta=np.empty((0,) * nd, _result_dtype(arrays)))


def _dask_prelu_backward(da, act, form, arrays):
    from .. import _axis, prelu_grad  # at call time: the package is imported by then

    g, x, w = arrays
    name = act.function_name(form)
    x = da.asarray(x)
    _axis._check_grad_output(name, tuple(np.shape(g)), tuple(x.shape))
    d = prelu_grad(x, w)
    grad_input = da.where(d == 0, 0, g * d)
    dtype = grad_input.dtype
    # d/dw = x for x < 0, else 0 (then 0 whatever grad_output)
    terms = da.where(x >= 0, 0, da.broadcast_to(g, x.shape) * x)
    shape = np.shape(w)
    per_channel = x.ndim >= 2 and math.prod(shape) > 1
    grad_weight = da.reduction(
        terms, _quiet_sum, _quiet_sum, dtype=dtype,
        axis=tuple(i for i in range(x.ndim) if not (per_channel and i == 1)))
    return grad_input.astype(dtype), grad_weight.reshape(shape).astype(dtype)


def _quiet_sum(v, axis=None, keepdims=False, **kwargs):
    with np.errstate(invalid="ignore"):  # inf + -inf is NaN, quietly
        return np.sum(v, axis=axis, keepdims=keepdims, **kwargs)


# --- xarray -----------------------------------------------------------------


def _xarray(numpy_function, act, form, arrays, axis):
    import xarray as xr

    x = arrays[form.arrays.index("x")]
    if not isinstance(x, xr.DataArray):
        raise TypeError(
            f"actgrad.{act.function_name(form)}: x must be an xarray.DataArray when "
            f"another argument is one, got {type(x).__name__}")
    core = x.ndim + axis if axis is not None else -1
    arrays = [a if isinstance(a, xr.DataArray) or np.ndim(a) == 0 else _named_like(x, a, core)
              for a in arrays]
    if act.convention == "channel":
        g, x, w = arrays
        grad_input, grad_weight = numpy_function(g.data, x.data, getattr(w, "data", w))
        grad_input = xr.DataArray(grad_input, dims=x.dims, coords=x.coords, attrs=x.attrs)
        if isinstance(w, xr.DataArray):
            return grad_input, w.copy(data=grad_weight)
        dims = (x.dims[1],) if grad_weight.ndim == 1 and x.ndim >= 2 and \
            grad_weight.size == x.shape[1] else None
        return grad_input, xr.DataArray(grad_weight, dims=dims)
    dim = x.dims[x.ndim + axis]
    resized = act.convention == "halves"
    result = xr.apply_ufunc(
        lambda *values: numpy_function(*values, axis=-1), *arrays,
        input_core_dims=[[dim]] * len(arrays), output_core_dims=[[dim]],
        exclude_dims={dim} if resized else set(), dask="allowed", keep_attrs=True)
    return result.transpose(..., *x.dims)


def _named_like(x, a, core):
    """A NumPy array as a DataArray with x's dimension names, from the last;
    its axes of length 1 (but the core one) left out, so they broadcast."""
    import xarray as xr

    a = np.asarray(a)
    dims = x.dims[x.ndim - a.ndim:]
    keep = [i for i, n in enumerate(a.shape)
            if n != 1 or x.sizes[dims[i]] == 1 or x.ndim - a.ndim + i == core]
    return xr.DataArray(a.reshape([a.shape[i] for i in keep]), dims=[dims[i] for i in keep])


# --- masked arrays ----------------------------------------------------------


def _masked(numpy_function, act, form, arrays, axis):
    masks = [np.ma.getmaskarray(a) if np.ndim(a) else np.False_ for a in arrays]
    data = [np.ma.getdata(a) for a in arrays]
    if act.convention == "channel":  # prelu_backward
        g, x, w = data
        absent = masks[0] | masks[1]
        zero = np.zeros((), np.result_type(g, x))
        grad_input, grad_weight = numpy_function(np.where(absent, zero, g),
                                                 np.where(absent, zero, x), w)
        return np.ma.masked_array(grad_input, mask=np.broadcast_to(absent, x.shape)), grad_weight
    if act.convention == "axis":
        x_mask = masks[-1]
        # absent entries take the value of no weight (-inf; +inf for softmin)
        x = np.where(x_mask, act.absent, data[-1]) if x_mask.any() else data[-1]
        if form.kind == "f":
            return np.ma.masked_array(numpy_function(x, axis=axis), mask=x_mask)
        absent = masks[0] | x_mask
        g = np.where(absent, np.zeros((), data[0].dtype), data[0])
        result = numpy_function(g, x, axis=axis)
        return np.ma.masked_array(result, mask=np.broadcast_to(absent, result.shape))
    # glu: an output is absent where either half (or grad_output) is
    x_mask = masks[-1]
    n = x_mask.shape[axis] // 2
    index = (slice(None),) * (x_mask.ndim + axis)
    gate = x_mask[index + (slice(0, n),)] | x_mask[index + (slice(n, None),)]
    if form.kind == "f":
        return np.ma.masked_array(numpy_function(data[0], axis=axis), mask=gate)
    absent = gate | masks[0]
    g = np.where(absent, np.zeros((), data[0].dtype), data[0])
    result = numpy_function(g, data[1], axis=axis)
    mask = np.concatenate([absent, absent], axis=axis)
    return np.ma.masked_array(result, mask=np.broadcast_to(mask, result.shape))


# --- pint and astropy quantities --------------------------------------------


def _quantity(numpy_function, act, form, arrays, axis):
    name = act.function_name(form)
    g, x, w = arrays
    g, unit = _quantities.split_units(g, name, "grad_output", keep_units=True)
    x, _ = _quantities.split_units(x, name, "x")
    w, _ = _quantities.split_units(w, name, "weight")
    like = next(a for a in arrays if _quantities.is_quantity(a))
    return tuple(_quantities.with_units(r, like, unit) for r in numpy_function(g, x, w))


_ADAPTERS = {"dask": _dask, "xarray": _xarray, "masked": _masked, "quantity": _quantity}
KINDS = frozenset(_ADAPTERS)
