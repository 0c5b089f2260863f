"""actgrad on torch tensors, JAX arrays and CuPy arrays.

``compute`` runs an activation on arrays of these libraries, with the result
in the same library, on the same device:

- torch CPU tensors and JAX on its CPU backend: the C++ ufunc itself, on the
  array's memory (``actgrad.backends.native``), bit-identical to NumPy;
- CuPy: elementwise kernels compiled from the very C++ headers of the ufuncs
  (``actgrad.backends.cupy_kernels``);
- everywhere else (torch on CUDA or MPS, JAX on GPU or TPU): the Array API
  kernels of ``xp_kernels`` and ``xp_axis``, run by the ``_Engine``
  classes below, which ``native`` also differentiates beyond the table's
  forms.

dtypes follow the ufuncs: float16 (and bfloat16) are computed in float32 and
rounded once; integer and bool inputs give float64 (or the library's default
float where it has no float64: JAX without x64, torch on MPS), except that
relu and relu6 keep integer dtypes; complex input raises TypeError.  The
engines' torch functions are ``torch.autograd.Function`` objects whose
backward passes are actgrad's own derivatives, the JAX ones ``custom_jvp``
functions with actgrad's derivatives as JVP rules.  Parameters are constants:
no gradient flows to them (prelu's weight aside).
"""

from __future__ import annotations

import numpy as np

from . import kinds as _kinds, native as _native
from .native import _numpy_dtype
from .xp_axis import AXIS_KERNELS, prelu_weight_shape
from .xp_kernels import kernel_for, select_backward

_SCALARS = (bool, int, float, np.generic)


def backend_of(arrays) -> str | None:
    """The array library among `arrays` (torch, jax, cupy) that computes, or None."""
    kind = _kinds.kind_of(arrays)
    return kind if kind in _kinds.OWN_LIBRARIES else None


def _engine(backend: str):
    engine = _ENGINES.get(backend)
    if engine is None:
        engine = _ENGINES[backend] = _ENGINE_TYPES[backend]()
    return engine


def compute(backend: str, act, form, arrays, params, ufunc):
    """An elementwise activation (the `ufunc` on NumPy arrays) on arrays of
    `backend`, with scalar or array params: by the ufunc itself where the
    arrays are in host memory (``native``), else by the Array API kernels."""
    native = _native.for_backend(backend)
    if native is not None and native.serves(arrays):
        return native.call(_native.entry_for_ufunc(ufunc), arrays, params)
    return array_api(backend, act, form, arrays, params)


def compute_axis(backend: str, act, form, arrays, axis):
    """An activation along `axis` (counted from the end; None for prelu)."""
    native = _native.for_backend(backend)
    if native is not None and native.serves(arrays):
        return native.call(_native.entry(act.function_name(form)), arrays, (), axis)
    return array_api_axis(backend, act, form, arrays, axis)


def array_api(backend: str, act, form, arrays, params):
    """An elementwise activation by the Array API kernels of ``xp_kernels``."""
    return _engine(backend).call(act, form, arrays, params)


def array_api_axis(backend: str, act, form, arrays, axis):
    """An activation along an axis by the Array API kernels of ``xp_axis``."""
    return _engine(backend).call_axis(act, form, arrays, axis)


def refuse_numpy_keywords(name, backend, args, kwargs):
    """TypeError for out=, where=, ... given with an array of another library."""
    if args or kwargs:
        raise TypeError(
            f"actgrad.{name}: out=, where=, dtype=, casting= and order= "
            f"apply to NumPy input only; a {backend} array is computed by {backend} "
            f"(got {', '.join([*(['positional out'] if args else []), *kwargs])})"
        )


class _Engine:
    """The dtype, device and parameter handling shared by every backend."""

    name = ""

    def __init__(self):
        self.functions = {}  # kernel struct -> backend-specific callables

    # --- per backend --------------------------------------------------------
    def namespace(self, like):
        raise NotImplementedError

    def asarray(self, xp, value, like, dtype=None):
        raise NotImplementedError

    def float64(self, xp, like):
        return xp.float64

    def run(self, act, form, xp, arrays, params, floating):
        raise NotImplementedError

    def scalar_param(self, value, compute_dtype):
        # Round once to the compute dtype, as the C++ loops do.
        return float(np.asarray(value, dtype=_numpy_dtype(compute_dtype)))

    def differentiable_axis_f(self, act, xp):
        """f of an activation along an axis, with the library's autograd."""
        kernel = AXIS_KERNELS[act.kernel_struct]
        return lambda *args: kernel.f(xp, *args)

    def run_axis(self, act, form, xp, arrays, axis):
        """An activation along an axis; arrays in the compute dtype."""
        if form.kind == "f":
            key = ("axis", act.name)
            f = self.functions.get(key)
            if f is None:
                f = self.functions[key] = self.differentiable_axis_f(act, xp)
            return f(*arrays, axis)
        # The other forms are compositions of the library's differentiable
        # operations: autograd through them works too.
        return getattr(AXIS_KERNELS[act.kernel_struct], form.kind)(xp, *arrays, axis)

    # --- shared -------------------------------------------------------------
    def prepare(self, act, form, arrays):
        """(xp, like, arrays in this library, compute dtype, result dtype)."""
        name = act.function_name(form)
        like = next(a for a in arrays if backend_of((a,)) == self.name)
        xp = self.namespace(like)
        converted = [a if backend_of((a,)) == self.name
                     else (a if isinstance(a, _SCALARS) else self.asarray(xp, a, like))
                     for a in arrays]
        dtype = xp.result_type(*(a for a in converted if not isinstance(a, _SCALARS)))
        compute, result = self.dtypes(xp, dtype, act, form, name, like)
        converted = [self.asarray(xp, a, like, compute) if isinstance(a, _SCALARS) else a
                     for a in converted]
        return xp, like, converted, compute, result

    def call(self, act, form, arrays, params):
        xp, like, arrays, compute, result = self.prepare(act, form, arrays)
        params = [self.param(xp, p, compute, like) for p in params]
        return self.execute(act, form, xp, arrays, params, compute, result)

    def call_axis(self, act, form, arrays, axis):
        xp, _, arrays, compute, result = self.prepare(act, form, arrays)
        return self.execute_axis(act, form, xp, arrays, axis, compute, result)

    def execute_axis(self, act, form, xp, arrays, axis, compute, result):
        arrays = [a if a.dtype == compute else xp.astype(a, compute) for a in arrays]
        if act.convention == "channel":
            *arrays, weight = arrays
            shape = prelu_weight_shape(act.function_name(form), arrays[-1].shape, weight.shape)
            out = self.run_axis(act, form, xp, [*arrays, xp.reshape(weight, shape)], None)
            if form.kind == "backward":
                grad_input, grad_weight = out
                return (xp.astype(grad_input, result),
                        xp.astype(xp.reshape(grad_weight, weight.shape), result))
        elif act.convention == "axis" and arrays[-1].shape[axis] == 0:
            # No row to reduce: the result is as empty as x.
            out = xp.zeros(np.broadcast_shapes(*(tuple(a.shape) for a in arrays)),
                           dtype=compute)
        else:
            out = self.run_axis(act, form, xp, arrays, axis)
        return out if out.dtype == result else xp.astype(out, result)

    def execute(self, act, form, xp, arrays, params, compute, result):
        arrays = [a if a.dtype == compute else xp.astype(a, compute) for a in arrays]
        out = self.run(act, form, xp, arrays, params, xp.isdtype(compute, "real floating"))
        # A kernel may ignore an input (f'' of the piecewise-linear ones ignores
        # the parameters); the result still has the broadcast shape of them all.
        shape = np.broadcast_shapes(*(tuple(a.shape) for a in (*arrays, *params)
                                      if not isinstance(a, _SCALARS)))
        if tuple(out.shape) != shape:
            out = xp.asarray(xp.broadcast_to(out, shape), copy=True)
        return out if out.dtype == result else xp.astype(out, result)

    def param(self, xp, value, compute, like):
        if isinstance(value, _SCALARS) or (isinstance(value, np.ndarray) and value.ndim == 0):
            return self.scalar_param(value, compute)
        if backend_of((value,)) == self.name:
            return xp.astype(value, compute)
        return self.asarray(xp, np.asarray(value, dtype=_numpy_dtype(compute)), like)

    def dtypes(self, xp, dtype, act, form, name, like):
        """(compute dtype, result dtype) for an input of `dtype`."""
        if xp.isdtype(dtype, "real floating"):
            if xp.finfo(dtype).bits < 32:  # float16, bfloat16
                return xp.float32, dtype
            return dtype, dtype
        if xp.isdtype(dtype, ("bool", "integral")):
            if act.keeps_integers and form.kind == "f":
                # relu and relu6 map {0, 1} to itself: bool is computed as int8.
                return (xp.int8 if xp.isdtype(dtype, "bool") else dtype), dtype
            f64 = self.float64(xp, like)
            return f64, f64
        raise TypeError(
            f"actgrad.{name}: unsupported input dtype {dtype}; expected real numbers "
            "(bool, integer or floating point)"
        )

    def plain_f(self, act, module, xp):
        """f from the library's own function where declared, else the kernel."""
        kernel = kernel_for(act)
        native = getattr(kernel, "native", {}).get(self.name)
        if native is None:
            return lambda x, *p: kernel.f(xp, x, *p)
        # Library functions take scalar parameters only.
        return lambda x, *p: (native(module, x, *p) if all(type(v) is float for v in p)
                              else kernel.f(xp, x, *p))


class _TorchEngine(_Engine):
    name = "torch"

    def __init__(self):
        super().__init__()
        import array_api_compat.torch as xp
        import torch

        self.torch, self.xp = torch, xp

    def namespace(self, like):
        return self.xp

    def asarray(self, xp, value, like, dtype=None):
        return self.torch.as_tensor(value, dtype=dtype, device=like.device)

    def float64(self, xp, like):
        return self.torch.float32 if like.device.type == "mps" else self.torch.float64

    def run(self, act, form, xp, arrays, params, floating):
        kernel = kernel_for(act)
        fns = self.functions.get(act.kernel_struct)
        if fns is None:
            fns = self.functions[act.kernel_struct] = self.autograd_functions(act)
        F, DF, plain_f = fns
        if form.kind == "f":
            return F.apply(arrays[0], *params) if floating else plain_f(arrays[0], *params)
        if form.kind == "grad":
            return DF.apply(arrays[0], *params)
        if form.kind == "grad2":
            return kernel.d2f(xp, arrays[0], *params)
        g, x = arrays
        return select_backward(xp, g, DF.apply(x, *params))

    def autograd_functions(self, act):
        torch, xp, kernel = self.torch, self.xp, kernel_for(act)
        plain_f = self.plain_f(act, torch, xp)

        def save_x(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.params = inputs[1:]

        def df_backward(ctx, grad):
            (x,) = ctx.saved_tensors
            d2 = kernel.d2f(xp, x, *ctx.params)
            return (select_backward(xp, grad, d2), *(None for _ in ctx.params))

        def f_backward(ctx, grad):
            (x,) = ctx.saved_tensors
            d = DF.apply(x, *ctx.params)
            return (select_backward(xp, grad, d), *(None for _ in ctx.params))

        def function(name, forward, backward):
            return type(name, (torch.autograd.Function,), {
                "generate_vmap_rule": True, "forward": staticmethod(forward),
                "setup_context": staticmethod(save_x), "backward": staticmethod(backward),
                "__module__": "actgrad",
            })

        DF = function(f"{act.name}_grad", lambda x, *p: kernel.df(xp, x, *p), df_backward)
        F = function(act.name, plain_f, f_backward)
        return F, DF, plain_f

    def differentiable_axis_f(self, act, xp):
        # arguments: the arrays (x, or x and weight), then the axis
        kernel = AXIS_KERNELS[act.kernel_struct]

        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs[:-1])
            ctx.axis = inputs[-1]

        def backward(ctx, grad):
            grads = kernel.backward(xp, grad, *ctx.saved_tensors, ctx.axis)
            return (*(grads if isinstance(grads, tuple) else (grads,)), None)

        F = type(act.name, (self.torch.autograd.Function,), {
            "generate_vmap_rule": True,
            "forward": staticmethod(lambda *args: kernel.f(xp, *args)),
            "setup_context": staticmethod(setup_context), "backward": staticmethod(backward),
            "__module__": "actgrad",
        })
        return F.apply


class _JaxEngine(_Engine):
    name = "jax"

    def __init__(self):
        super().__init__()
        import jax
        import jax.numpy as jnp

        self.jax, self.xp = jax, jnp
        self.jitted = {}

    def namespace(self, like):
        return self.xp

    def asarray(self, xp, value, like, dtype=None):
        return xp.asarray(value, dtype=dtype)

    def float64(self, xp, like):
        return xp.result_type(float)  # float64 with jax_enable_x64, else float32

    def execute(self, act, form, xp, arrays, params, compute, result):
        # One XLA computation per function and dtype (compiled per shape),
        # casts included, not one per primitive; inside a user's jit it is
        # simply inlined.
        if xp.isdtype(compute, "real floating"):
            # Integer and bool inputs are converted first, on their own: fused,
            # XLA rewrites convert(bool) * s as select(bool, s, 0) and loses -0.0.
            arrays = [a if xp.isdtype(a.dtype, "real floating") else xp.astype(a, compute)
                      for a in arrays]
        # the kernel struct too: the variants of gelu/softplus share a name
        key = (act.kernel_struct, act.function_name(form), str(compute), str(result))
        jitted = self.jitted.get(key)
        if jitted is None:
            n, execute = len(arrays), super().execute
            jitted = self.jitted[key] = self.jax.jit(
                lambda *args: execute(act, form, xp, args[:n], args[n:], compute, result))
        return jitted(*arrays, *params)

    def execute_axis(self, act, form, xp, arrays, axis, compute, result):
        key = ("axis", act.function_name(form), axis, str(compute), str(result))
        jitted = self.jitted.get(key)
        if jitted is None:
            execute = super().execute_axis
            jitted = self.jitted[key] = self.jax.jit(
                lambda *args: execute(act, form, xp, args, axis, compute, result))
        return jitted(*arrays)

    def differentiable_axis_f(self, act, xp):
        kernel = AXIS_KERNELS[act.kernel_struct]
        n = 2 if act.convention == "channel" else 1  # (x,) or (x, weight)

        def f(*args):
            return kernel.f(xp, *args)

        F = self.jax.custom_jvp(f, nondiff_argnums=(n,))

        @F.defjvp
        def _jvp(axis, primals, tangents):
            return F(*primals, axis), kernel.jvp(xp, *tangents, *primals, axis)

        return F

    def run(self, act, form, xp, arrays, params, floating):
        kernel = kernel_for(act)
        fns = self.functions.get(act.kernel_struct)
        if fns is None:
            fns = self.functions[act.kernel_struct] = self.custom_jvp_functions(act)
        F, DF, plain_f = fns
        if form.kind == "f":
            return F(arrays[0], *params) if floating else plain_f(arrays[0], *params)
        if form.kind == "grad":
            return DF(arrays[0], *params)
        if form.kind == "grad2":
            return kernel.d2f(xp, arrays[0], *params)
        g, x = arrays
        return select_backward(xp, g, DF(x, *params))

    def custom_jvp_functions(self, act):
        jax, jnp, kernel = self.jax, self.xp, kernel_for(act)
        plain_f = self.plain_f(act, jax, jnp)

        @jax.custom_jvp
        def DF(x, *params):
            return kernel.df(jnp, x, *params)

        @DF.defjvp
        def _df_jvp(primals, tangents):
            x, *params = primals
            d2 = kernel.d2f(jnp, x, *params)
            return DF(x, *params), select_backward(jnp, tangents[0], d2)

        @jax.custom_jvp
        def F(x, *params):
            return plain_f(x, *params)

        @F.defjvp
        def _f_jvp(primals, tangents):
            x, *params = primals
            return F(x, *params), select_backward(jnp, tangents[0], DF(x, *params))

        return F, DF, plain_f


class _CupyEngine(_Engine):
    name = "cupy"

    def __init__(self):
        super().__init__()
        import array_api_compat.cupy as xp
        import cupy

        self.cupy, self.xp = cupy, xp

    def namespace(self, like):
        return self.xp

    def asarray(self, xp, value, like, dtype=None):
        with like.device:
            return self.cupy.asarray(value, dtype=dtype)

    def scalar_param(self, value, compute_dtype):
        # The kernel takes float64 parameters and rounds them itself, as the
        # CPU loops do.
        return float(value)

    def param(self, xp, value, compute, like):
        if isinstance(value, _SCALARS) or (isinstance(value, np.ndarray) and value.ndim == 0):
            return float(value)
        return self.asarray(xp, value, like, self.cupy.float64)

    def run(self, act, form, xp, arrays, params, floating):
        from .cupy_kernels import elementwise_kernel

        return elementwise_kernel(act, form)(*arrays, *params)


_ENGINE_TYPES = {"torch": _TorchEngine, "jax": _JaxEngine, "cupy": _CupyEngine}
_ENGINES: dict = {}
