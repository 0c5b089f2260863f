"""actgrad's C++ functions on torch CPU tensors and JAX CPU arrays.

The math exists once, in the C++ headers.  Where a library's array lives in
host memory, actgrad computes it with the very ufunc that serves NumPy, on a
zero-copy NumPy view, so the results are bit-identical to NumPy's:

- torch: every public function is one operator, ``actgrad::call`` (two
  results: ``actgrad::call2``), registered with ``torch.library.custom_op``,
  so that ``torch.compile`` sees one opaque operator.  Its autograd formula is
  actgrad's own derivatives: the backward pass of ``NAME`` is
  ``NAME_backward``, that of ``NAME_grad`` uses ``NAME_grad2``, that of
  softmax is ``softmax_backward``, each itself an operator call.  Eagerly
  the operators run inside a ``torch.autograd.Function`` (which
  ``torch.func``'s transforms can differentiate and batch); under
  ``torch.compile``, the operators' own registered autograd.  A call that
  needs no autograd (no input requires grad, no ``torch.func`` transform, no
  compilation) skips the operator machinery.
- JAX: a ``jax.pure_callback`` under ``jax.custom_jvp``, whose tangents are
  actgrad's derivatives (``NAME_grad``, ``NAME_grad2``) computed by further
  callbacks, so ``jit``, ``grad``, ``vmap`` and higher derivatives work.  XLA
  cannot fuse a callback with its neighbours: the price of exactness.  (XLA's
  threads flush subnormals to zero; the ufunc loops switch that off while
  they run: ``ExactSubnormals`` in loops.hpp.)

A derivative beyond the table's forms (f''' by differentiating ``NAME_grad2``,
the second derivative along an axis) is the library's autograd through the
Array API kernels of ``xp_kernels`` and ``xp_axis``, which follow the same
algorithms.  Parameters are constants, except prelu's weight.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import _ufuncs
from .._table import ACTIVATIONS, AXIS_ACTIVATIONS, FORMS

_FORM_OF = {f.kind: f for f in FORMS}


class Entry:
    """One public function's C++ computation, and what differentiates it."""

    def __init__(self, name, act, form, numpy_call, n_arrays, axis_wise):
        self.name, self.act, self.form = name, act, form
        self.numpy_call = numpy_call  # (arrays, params, axis) -> ndarray(s)
        self.n_arrays = n_arrays      # the leading operands that are arrays
        self.axis_wise = axis_wise
        self.channel = getattr(act, "convention", "") == "channel"
        self.n_out = 2 if self.channel and form.kind == "backward" else 1
        # the base name of elementwise forms: gelu_tanh_grad -> gelu_tanh
        self.base = name[: len(name) - len(form.suffix)] if not axis_wise else act.name

    def sibling(self, kind):
        """The entry of another form of the same function (gelu_tanh -> gelu_tanh_grad)."""
        return entry(self.base + _FORM_OF[kind].suffix)


_TABLE: dict = {}


def _entries():
    if _TABLE:
        return _TABLE
    from .._axis import FUNCTIONS as axis_functions

    table = _TABLE
    for act in ACTIVATIONS:
        for variant in act.ufunc_variants():
            kernel_act = act if variant.kernel == act.kernel_struct else \
                _with_kernel(act, variant.kernel)
            for form in FORMS:
                name = act.name + variant.suffix + form.suffix
                ufunc = getattr(_ufuncs, name)
                table[name] = Entry(name, kernel_act, form,
                                    lambda arrays, params, axis, u=ufunc: u(*arrays, *params),
                                    len(form.arrays), False)
    for act in AXIS_ACTIVATIONS:
        for form in act.forms:
            name = act.function_name(form)
            function = axis_functions[name]
            if act.convention == "channel":
                call = (lambda arrays, params, axis, f=function: f(*arrays))
            else:
                call = (lambda arrays, params, axis, f=function: f(*arrays, axis=axis))
            table[name] = Entry(name, act, form, call, len(form.arrays), True)
    return table


def _with_kernel(act, kernel):
    import dataclasses

    return dataclasses.replace(act, kernel=kernel)


def entry(name) -> Entry:
    return _entries()[name]


def entry_for_ufunc(ufunc) -> Entry:
    return _entries()[ufunc.__name__]


def _fallback(backend, e: Entry, operands, params, axis):
    """The same form by the Array API kernels: differentiable by the library."""
    from . import xp as _xp

    arrays = list(operands[: e.n_arrays])
    params = [*operands[e.n_arrays:], *params]
    if e.axis_wise:
        return _xp.array_api_axis(backend, e.act, e.form, arrays, axis)
    return _xp.array_api(backend, e.act, e.form, arrays, params)


# --- torch --------------------------------------------------------------------


class Torch:
    """actgrad's C++ functions as torch operators, for CPU tensors."""

    def __init__(self):
        import torch

        self.torch = torch
        wrapped = getattr(getattr(torch._C, "_functorch", None),
                          "is_functorch_wrapped_tensor", None)
        # without the query, every call takes the operator (slower, as exact)
        self.is_wrapped = wrapped if wrapped is not None else (lambda t: True)
        self.ops = self._define_ops()

    # which tensors the C++ code can read in place
    def serves(self, arrays) -> bool:
        torch = self.torch
        return all(a.device.type == "cpu" and a.layout == torch.strided
                   for a in arrays if isinstance(a, torch.Tensor))

    def call(self, e: Entry, arrays, params, axis=None):
        """e's function on these operands (tensors, NumPy arrays, scalars)."""
        torch = self.torch
        like = next(a for a in arrays if isinstance(a, torch.Tensor))
        tensor_params = [p for p in params if not _is_scalar(p)]
        if tensor_params:  # all as tensors, after the arrays (the ufunc's order)
            operands = [*arrays, *(self.as_tensor(p, torch.float64) for p in params)]
            scalars = []
        else:
            operands, scalars = list(arrays), [float(p) for p in params]
        operands = self.tensors(operands, like, e.n_arrays)
        if torch.compiler.is_compiling():
            return self.ops[e.n_out](e.name, operands, scalars, axis)
        if self.needs_operator(operands):
            return self.function.apply(e.name, scalars, axis, *operands)
        return self.run(e.name, operands, scalars, axis)

    def needs_operator(self, tensors) -> bool:
        grad = self.torch.is_grad_enabled()
        return any((grad and t.requires_grad) or self.is_wrapped(t) for t in tensors)

    def as_tensor(self, value, dtype=None):
        torch = self.torch
        if isinstance(value, torch.Tensor):
            return value
        value = np.asarray(value)
        if not value.flags.writeable:  # torch warns about read-only memory
            value = value.copy()
        return torch.from_numpy(value) if dtype is None else torch.from_numpy(value).to(dtype)

    def tensors(self, operands, like, n_arrays):
        """Every operand a tensor; a Python scalar among the arrays as the dtype
        NumPy would give it against the others (weak, NEP 50)."""
        torch = self.torch
        if all(isinstance(o, torch.Tensor) for o in operands):
            return operands
        dtypes = [_numpy_dtype(o.dtype) for o in operands[:n_arrays] if hasattr(o, "dtype")]
        out = []
        for i, o in enumerate(operands):
            if isinstance(o, torch.Tensor):
                out.append(o)
            elif i < n_arrays and _is_scalar(o):
                dtype = np.result_type(*dtypes, o) if dtypes else np.asarray(o).dtype
                out.append(torch.from_numpy(np.asarray(o, dtype=dtype)))
            else:
                out.append(self.as_tensor(o))
        return out

    def run(self, name, operands, scalars, axis):
        """The C++ function on NumPy views of the tensors."""
        torch = self.torch
        e = entry(name)
        bfloat16 = [t.dtype == torch.bfloat16 for t in operands]
        arrays = [(t.float() if b else t).detach().resolve_conj().resolve_neg().numpy()
                  for t, b in zip(operands, bfloat16)]
        result = e.numpy_call(arrays, scalars, axis)
        floats = [t for t in operands[: e.n_arrays] if t.dtype.is_floating_point]
        to_bfloat16 = bool(floats) and all(t.dtype == torch.bfloat16 for t in floats)

        def back(r):
            r = np.asarray(r)
            t = torch.from_numpy(r if r.flags.writeable else r.copy())
            return t.to(torch.bfloat16) if to_bfloat16 and t.dtype == torch.float32 else t

        return tuple(back(r) for r in result) if e.n_out == 2 else back(np.asarray(result))

    # --- the operators ----------------------------------------------------------
    def _define_ops(self):
        """The torch operators over ``run`` (opaque to ``torch.compile``), and
        the autograd.Function around them that differentiates them (with
        ``torch.autograd`` and with ``torch.func``)."""
        torch = self.torch
        ops = {}
        arguments = "(str name, Tensor[] operands, float[] scalars, int? axis)"
        for n_out, result in ((1, "Tensor"), (2, "(Tensor, Tensor)")):
            op = torch.library.custom_op(f"actgrad::call{'' if n_out == 1 else n_out}",
                                         self.run, mutates_args=(), device_types="cpu",
                                         schema=f"{arguments} -> {result}")
            op.register_fake(self._fake)
            op.register_autograd(self._op_backward, setup_context=self._op_setup_context)
            ops[n_out] = op
        native = self

        class Call(torch.autograd.Function):
            @staticmethod
            def forward(name, scalars, axis, *operands):
                return ops[entry(name).n_out](name, list(operands), scalars, axis)

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.name, ctx.scalars, ctx.axis = inputs[:3]
                ctx.save_for_backward(*inputs[3:])

            @staticmethod
            def backward(ctx, *grads):
                def call(name, *operands):
                    return Call.apply(name, ctx.scalars, ctx.axis, *operands)

                operands = list(ctx.saved_tensors)
                return (None, None, None, *native.vjp(entry(ctx.name), operands, grads, call,
                                                      ctx.scalars, ctx.axis))

            @staticmethod
            def vmap(info, in_dims, name, scalars, axis, *operands):
                return native.vmap(info, in_dims[3:], name, scalars, axis, operands)

        Call.__module__ = "actgrad"
        self.function = Call
        return ops

    def _fake(self, name, operands, scalars, axis):
        # shapes and dtypes from the Array API kernels, run on the fake tensors
        return _fallback("torch", entry(name), operands, scalars, axis)

    # Under torch.compile the operators are differentiated as operators
    # (AOTAutograd traces this), elsewhere through the autograd.Function.
    @staticmethod
    def _op_setup_context(ctx, inputs, output):
        name, operands, scalars, axis = inputs
        ctx.name, ctx.scalars, ctx.axis = name, scalars, axis
        ctx.save_for_backward(*operands)

    def _op_backward(self, ctx, *grads):
        def call(name, *operands):
            return self.ops[entry(name).n_out](name, list(operands), ctx.scalars, ctx.axis)

        grads_in = self.vjp(entry(ctx.name), list(ctx.saved_tensors), grads, call,
                            ctx.scalars, ctx.axis)
        return None, grads_in, [None] * len(ctx.scalars), None

    def vjp(self, e: Entry, operands, grads, call, scalars, axis):
        """The gradient of every operand (None for a parameter); `call(name,
        *operands)` computes another form, differentiably."""
        torch = self.torch
        n = e.n_arrays
        params = operands[n:]
        none = [None] * len(params)
        gout = grads[0]

        def op(kind, arrays):
            return call(e.sibling(kind).name, *arrays, *params)

        def select(g, d):
            return torch.where(d == 0, torch.zeros((), dtype=d.dtype), g * d)

        kind = e.form.kind
        if not e.axis_wise and kind == "f":
            return [op("backward", [gout, operands[0]]), *none]
        if not e.axis_wise and kind == "grad":
            return [select(gout, op("grad2", [operands[0]])), *none]
        if not e.axis_wise and kind == "backward":
            g, x = operands[:2]
            return [select(gout, op("grad", [x])), select(gout * g, op("grad2", [x])), *none]
        if e.axis_wise and kind == "f":
            # softmax's is softmax_backward; prelu's gives x's and the weight's
            result = call(e.act.name + "_backward", gout, *operands)
            return list(result) if e.channel else [result]
        # beyond the table's forms: autograd through the Array API kernel
        differentiable = operands if e.channel else operands[:n]

        def same_form(*values):
            return _fallback("torch", e, [*values, *operands[len(values):]], scalars, axis)

        _, pullback = torch.func.vjp(same_form, *differentiable)
        cotangents = list(pullback(tuple(grads) if e.n_out == 2 else gout))
        return cotangents + [None] * (len(operands) - len(cotangents))

    def vmap(self, info, dims, name, scalars, axis, operands):
        torch = self.torch
        e = entry(name)
        size = info.batch_size
        apply = self.function.apply
        if e.channel:  # axis 1 is the channel axis: one call per batch element
            results = [apply(name, scalars, axis, *(o if d is None else o.select(d, i)
                                                    for o, d in zip(operands, dims)))
                       for i in range(size)]
            if e.n_out == 2:
                return tuple(torch.stack(r) for r in zip(*results)), (0, 0)
            return torch.stack(results), 0
        # elementwise or along an axis counted from the end: the batch axis in
        # front of each batched operand, aligned with the broadcast shape
        ndim = max(o.ndim - (d is not None) for o, d in zip(operands, dims))
        moved = []
        for o, d in zip(operands, dims):
            if d is not None:
                o = o.movedim(d, 0)
                o = o.reshape((size,) + (1,) * (ndim - o.ndim + 1) + tuple(o.shape[1:]))
            moved.append(o)
        return apply(name, scalars, axis, *moved), ((0, 0) if e.n_out == 2 else 0)


# --- JAX ----------------------------------------------------------------------


class Jax:
    """actgrad's C++ functions as JAX callbacks, on the CPU backend."""

    def __init__(self):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.on_cpu = jax.default_backend() == "cpu"

    def serves(self, arrays) -> bool:
        return self.on_cpu

    def call(self, e: Entry, arrays, params, axis=None):
        jnp = self.jnp
        scalars = tuple(float(p) for p in params) if all(map(_is_scalar, params)) else None
        if scalars is None:  # array parameters are operands
            operands = [*arrays, *(jnp.asarray(p) for p in params)]
            scalars = ()
        else:
            operands = list(arrays)
        operands = [o if hasattr(o, "dtype") and not isinstance(o, np.ndarray)
                    else jnp.asarray(o) for o in operands]
        return self.function(e.name, scalars, axis)(*operands)

    @functools.lru_cache(maxsize=4096)
    def function(self, name, scalars, axis):
        """The jitted, differentiable function of the operands."""
        jax, jnp = self.jax, self.jnp
        e = entry(name)

        def callback(*operands):
            spec = jax.eval_shape(lambda *o: _fallback("jax", e, o, scalars, axis), *operands)
            specs = spec if e.n_out == 2 else (spec,)

            def host(*values):
                values = [np.asarray(v) for v in values]
                dtype = specs[0].dtype
                if jnp.issubdtype(dtype, jnp.floating):
                    # The arrays in the result's dtype, as JAX promotes them: a
                    # weak Python scalar takes x's dtype, and an integer input
                    # is computed in the float JAX has (float32 without x64).
                    values = [v.astype(dtype) if i < e.n_arrays and v.dtype != dtype else v
                              for i, v in enumerate(values)]
                result = e.numpy_call(values, scalars, axis)
                result = result if e.n_out == 2 else (result,)
                out = tuple(np.asarray(r, dtype=s.dtype) for r, s in zip(result, specs))
                return out if e.n_out == 2 else out[0]

            method = "sequential" if e.channel else "broadcast_all"
            return jax.pure_callback(host, spec, *operands, vmap_method=method)

        F = jax.custom_jvp(callback)

        @F.defjvp
        def _jvp(primals, tangents_in):
            return F(*primals), self.jvp(e, e.form.kind, primals, tangents_in, scalars, axis)

        return jax.jit(F)

    def jvp(self, e: Entry, kind, primals, tangents_in, scalars, axis):
        jnp = self.jnp
        params = list(primals[e.n_arrays:])

        def native(k, arrays):
            s = e.sibling(k)
            return self.function(s.name, scalars, axis)(*arrays, *params)

        def select(t, d):
            # t * d, except 0 where d is 0 (flat pieces swallow inf and NaN, as
            # in NAME_backward).  The choice can depend on primals only (JAX
            # transposes the tangent map), so differentiating this again in x
            # gives 0 where d is exactly 0, not t * d'.
            return jnp.where(d == 0, jnp.zeros((), d.dtype), t * d)

        if not e.axis_wise and kind == "f":
            return select(tangents_in[0], native("grad", [primals[0]]))
        if not e.axis_wise and kind == "grad":
            return select(tangents_in[0], native("grad2", [primals[0]]))
        if not e.axis_wise and kind == "backward":
            g, x = primals[:2]
            tg, tx = tangents_in[:2]
            return select(tg, native("grad", [x])) + select(tx * g, native("grad2", [x]))
        # beyond the table's forms: JAX differentiates the Array API kernel
        differentiable = len(primals) if e.channel else e.n_arrays

        def same_form(*values):
            return _fallback("jax", e, [*values, *primals[differentiable:]], scalars, axis)

        return self.jax.jvp(same_form, tuple(primals[:differentiable]),
                            tuple(tangents_in[:differentiable]))[1]


def _is_scalar(v) -> bool:
    return isinstance(v, (bool, int, float, np.generic)) or (
        isinstance(v, np.ndarray) and v.ndim == 0)


def _numpy_dtype(dtype) -> np.dtype:
    if type(dtype).__module__.partition(".")[0] == "torch":
        name = str(dtype).rpartition(".")[2]
        return np.dtype("float32" if name == "bfloat16" else name)
    return np.dtype(dtype)


_LIBRARIES = {"torch": Torch, "jax": Jax}
_INSTANCES: dict = {}


def _install() -> None:
    """Define the torch operators now if torch is already imported, so that a
    first call inside torch.compile finds them (tracing cannot define them)."""
    import sys

    if "torch" in sys.modules:
        for_backend("torch")


def for_backend(backend: str):
    """The C++ path of `backend`, or None where it has none (CuPy has its own)."""
    native = _INSTANCES.get(backend)
    if native is None and backend in _LIBRARIES:
        native = _INSTANCES[backend] = _LIBRARIES[backend]()
    return native
