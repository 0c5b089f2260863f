"""``actgrad bench --catalogue``: f and f' of the smooth activations against their peers.

Usage (the process pins itself to one core before importing any peer):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        actgrad bench --catalogue [--sizes 1e6 1e7] [--dtypes float32 float64] [--functions NAME ...]

Prints the median time of each implementation as a ratio to np.copyto of the
same bytes (lower is better; 1.0 is the memory floor).  Peers: the NumPy /
scipy.special idiom a user would write, numexpr, PyTorch CPU (one thread;
f through torch.nn.functional, f' through its aten backward op) and JAX
(jax.jit, f' through jax.grad + vmap).  actgrad is timed with out=.

softmax, log_softmax and glu are timed on rows of 1000 elements (the same
number of elements: sizes must be multiples of 1000), f and the backward pass
("bwd") from x and grad_output: PyTorch's runs its forward and then its aten
backward op, JAX's is jax.vjp.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

import actgrad as ag


def timeit(fn, repeat=7, min_time=0.05):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = 0
        while True:
            fn()
            n += 1
            t = time.perf_counter() - t0
            if t > min_time:
                break
        times.append(t / n)
    return statistics.median(times)


def numpy_idioms(np_, sp):
    """name -> (f, f') as a NumPy/scipy user writes them."""
    expit = sp.expit if sp else (lambda x: 1 / (1 + np.exp(-x)))
    erf = sp.erf if sp else None
    out = {
        "sigmoid": (expit, lambda x: (lambda s: s * (1 - s))(expit(x))),
        "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
        "silu": (lambda x: x * expit(x), lambda x: (lambda s: s * (1 + x * (1 - s)))(expit(x))),
        "softplus": (lambda x: np.logaddexp(0, x), expit),
        "logsigmoid": (lambda x: -np.logaddexp(0, -x), lambda x: expit(-x)),
        "elu": (lambda x: np.where(x > 0, x, np.expm1(x)), lambda x: np.where(x > 0, 1, np.exp(x))),
        "selu": (lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
                 lambda x: 1.0507009873554805 * np.where(x > 0, 1, 1.6732632423543772 * np.exp(x))),
        "celu": (lambda x: np.where(x > 0, x, np.expm1(x)), lambda x: np.where(x > 0, 1, np.exp(x))),
        "softsign": (lambda x: x / (1 + np.abs(x)), lambda x: 1 / (1 + np.abs(x)) ** 2),
        "hardsigmoid": (lambda x: np.clip(x / 6 + 0.5, 0, 1),
                        lambda x: np.where((x > -3) & (x < 3), 1 / 6, 0)),
        "hardswish": (lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
                      lambda x: np.where(x < -3, 0, np.where(x >= 3, 1, x / 3 + 0.5))),
        "tanhshrink": (lambda x: x - np.tanh(x), lambda x: np.tanh(x) ** 2),
        "mish": (lambda x: x * np.tanh(np.logaddexp(0, x)), None),
        "squareplus": (lambda x: (x + np.sqrt(x * x + 4)) / 2,
                       lambda x: (1 + x / np.sqrt(x * x + 4)) / 2),
        "sparse_plus": (lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
                        lambda x: np.clip(x + 1, 0, 2) / 2),
        "sparse_sigmoid": (lambda x: np.clip(x + 1, 0, 2) / 2,
                           lambda x: np.where((x > -1) & (x < 1), 0.5, 0)),
    }
    if erf is not None:
        out["gelu"] = (lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2))),
                       lambda x: 0.5 * (1 + erf(x / np.sqrt(2))) + x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi))
    return out


NUMEXPR = {
    "sigmoid": ("1 / (1 + exp(-x))", "exp(-x) / (1 + exp(-x))**2"),
    "tanh": ("tanh(x)", "1 - tanh(x)**2"),
    "silu": ("x / (1 + exp(-x))", None),
    "softplus": ("log1p(exp(x))", "1 / (1 + exp(-x))"),
    "elu": ("where(x > 0, x, expm1(x))", "where(x > 0, 1, exp(x))"),
    "squareplus": ("(x + sqrt(x * x + 4)) / 2", "(1 + x / sqrt(x * x + 4)) / 2"),
    "softsign": ("x / (1 + abs(x))", "1 / (1 + abs(x))**2"),
    "tanhshrink": ("x - tanh(x)", "tanh(x)**2"),
    "mish": ("x * tanh(log1p(exp(x)))", None),
}

TORCH = {  # name -> (f, backward(g, x)) ; backward through aten ops
    "sigmoid": ("torch.sigmoid(x)", "torch.ops.aten.sigmoid_backward(g, torch.sigmoid(x))"),
    "tanh": ("torch.tanh(x)", "torch.ops.aten.tanh_backward(g, torch.tanh(x))"),
    "silu": ("F.silu(x)", "torch.ops.aten.silu_backward(g, x)"),
    "softplus": ("F.softplus(x)", "torch.ops.aten.softplus_backward(g, x, 1.0, 20.0)"),
    "logsigmoid": ("F.logsigmoid(x)", None),
    "elu": ("F.elu(x)", "torch.ops.aten.elu_backward(g, 1.0, 1.0, 1.0, False, x)"),
    "selu": ("F.selu(x)", None),
    "celu": ("F.celu(x)", None),
    "gelu": ("F.gelu(x)", "torch.ops.aten.gelu_backward(g, x)"),
    "mish": ("F.mish(x)", "torch.ops.aten.mish_backward(g, x)"),
    "softsign": ("F.softsign(x)", None),
    "hardsigmoid": ("F.hardsigmoid(x)", "torch.ops.aten.hardsigmoid_backward(g, x)"),
    "hardswish": ("F.hardswish(x)", "torch.ops.aten.hardswish_backward(g, x)"),
    "tanhshrink": ("F.tanhshrink(x)", None),
}

JAX = {
    "sigmoid": "jax.nn.sigmoid", "tanh": "jnp.tanh", "silu": "jax.nn.silu",
    "softplus": "jax.nn.softplus", "logsigmoid": "jax.nn.log_sigmoid", "elu": "jax.nn.elu",
    "selu": "jax.nn.selu", "celu": "jax.nn.celu", "gelu": "lambda x: jax.nn.gelu(x, approximate=False)",
    "mish": "lambda x: x * jnp.tanh(jax.nn.softplus(x))", "softsign": "jax.nn.soft_sign",
    "hardsigmoid": "jax.nn.hard_sigmoid", "hardswish": "jax.nn.hard_swish",
    "tanhshrink": "lambda x: x - jnp.tanh(x)",
    "squareplus": "jax.nn.squareplus", "sparse_plus": "jax.nn.sparse_plus",
    "sparse_sigmoid": "jax.nn.sparse_sigmoid",
}


#: along an axis (rows of ROW elements): name -> forms timed
AXIS = ("softmax", "log_softmax", "glu", "softmin")
ROW = 1000


def axis_idioms(sp):
    """name -> (f, backward(g, x)) as a NumPy/scipy user writes them, on the last axis."""
    def softmax_backward(g, x):
        s = sp.softmax(x, axis=-1)
        return s * (g - np.sum(g * s, axis=-1, keepdims=True))

    def log_softmax_backward(g, x):
        return g - np.exp(sp.log_softmax(x, axis=-1)) * np.sum(g, axis=-1, keepdims=True)

    def halves(x):
        n = x.shape[-1] // 2
        return x[..., :n], x[..., n:]

    def glu_backward(g, x):
        a, b = halves(x)
        s = sp.expit(b)
        return np.concatenate([g * s, g * a * s * (1 - s)], axis=-1)

    return {"softmax": (lambda x: sp.softmax(x, axis=-1), softmax_backward),
            "softmin": (lambda x: sp.softmax(-x, axis=-1), lambda g, x: -softmax_backward(g, -x)),
            "log_softmax": (lambda x: sp.log_softmax(x, axis=-1), log_softmax_backward),
            "glu": (lambda x: (lambda a, b: a * sp.expit(b))(*halves(x)), glu_backward)}


#: torch: f, and the backward pass from x (its forward, then the aten backward op
#: that takes the forward's output, as a training step runs them)
TORCH_AXIS = {
    "softmax": ("torch.softmax(x, -1)",
                "torch.ops.aten._softmax_backward_data(g, torch.softmax(x, -1), -1, x.dtype)"),
    "log_softmax": ("torch.log_softmax(x, -1)",
                    "torch.ops.aten._log_softmax_backward_data(g, torch.log_softmax(x, -1), -1, "
                    "x.dtype)"),
    "glu": ("F.glu(x, -1)", "torch.ops.aten.glu_backward(g, x, -1)"),
    # softmin is softmax(-x) in PyTorch: its backward is softmax's, negated
    "softmin": ("F.softmin(x, -1)",
                "-torch.ops.aten._softmax_backward_data(g, F.softmin(x, -1), -1, x.dtype)"),
}

JAX_AXIS = {"softmax": "jax.nn.softmax", "log_softmax": "jax.nn.log_softmax",
            "glu": "jax.nn.glu", "softmin": "lambda x: jax.nn.softmax(-x)"}


def elementwise_rows(name, x, g, out, idioms, peers):
    """(form, {implementation: median seconds}) for f and f' of one activation."""
    for form in ("f", "grad"):
        row = {}
        fn = getattr(ag, name + ("" if form == "f" else "_grad"))
        row["actgrad"] = timeit(lambda: fn(x, out=out))
        idiom = idioms.get(name, (None, None))[form == "grad"]
        if idiom is not None:
            with np.errstate(all="ignore"):
                row["numpy"] = timeit(lambda: idiom(x), repeat=3)
        if "numexpr" in peers and NUMEXPR.get(name, (None, None))[form == "grad"]:
            ne = peers["numexpr"]
            expr = NUMEXPR[name][form == "grad"]
            row["numexpr"] = timeit(lambda: ne.evaluate(expr, local_dict={"x": x}), repeat=3)
        if "torch" in peers and name in TORCH:
            torch = peers["torch"]
            import torch.nn.functional as F
            tx = torch.from_numpy(x)
            tg = torch.from_numpy(g)
            src = TORCH[name][form == "grad"]
            if src is not None:
                code = eval("lambda x, g: " + src, {"torch": torch, "F": F})
                row["torch"] = timeit(lambda: code(tx, tg), repeat=3)
        if "jax" in peers and name in JAX:
            jax = peers["jax"]
            import jax.numpy as jnp
            f = eval(JAX[name], {"jax": jax, "jnp": jnp})
            if form == "grad":
                f = jax.vmap(jax.grad(f))
            jf = jax.jit(f)
            jx = jnp.asarray(x)
            row["jax"] = timeit(lambda: jf(jx).block_until_ready(), repeat=3)
        yield form, row


def axis_rows(name, x, g, sp, peers):
    """(form, {implementation: median seconds}) for f and the backward pass of
    one axis function, on rows of ROW."""
    x = x.reshape(-1, ROW)
    g_full = g.reshape(-1, ROW)
    g = g_full[:, :ROW // 2] if name == "glu" else g_full
    f, backward = getattr(ag, name), getattr(ag, name + "_backward")
    out_f = np.empty_like(x[:, :ROW // 2] if name == "glu" else x)
    out_b = np.empty_like(x)
    idiom = axis_idioms(sp)[name] if sp else (None, None)
    for form in ("f", "bwd"):
        row = {}
        if form == "f":
            row["actgrad"] = timeit(lambda: f(x, out=out_f))
        else:
            row["actgrad"] = timeit(lambda: backward(g, x, out=out_b))
        if idiom[0] is not None:
            with np.errstate(all="ignore"):
                row["numpy"] = (timeit(lambda: idiom[0](x), repeat=3) if form == "f"
                                else timeit(lambda: idiom[1](g, x), repeat=3))
        if "torch" in peers:
            torch = peers["torch"]
            import torch.nn.functional as F
            src = TORCH_AXIS[name][form == "bwd"]
            code = eval("lambda x, g: " + src, {"torch": torch, "F": F})
            tx, tg = torch.from_numpy(x), torch.from_numpy(g)
            row["torch"] = timeit(lambda: code(tx, tg), repeat=3)
        if "jax" in peers:
            jax = peers["jax"]
            import jax.numpy as jnp
            fn = eval(JAX_AXIS[name], {"jax": jax})
            jx, jg = jnp.asarray(x), jnp.asarray(g)
            if form == "f":
                jf = jax.jit(fn)
                row["jax"] = timeit(lambda: jf(jx).block_until_ready(), repeat=3)
            else:
                jb = jax.jit(lambda gv, xv: jax.vjp(fn, xv)[1](gv)[0])
                row["jax"] = timeit(lambda: jb(jg, jx).block_until_ready(), repeat=3)
        yield form, row


def pin_to_cores(n=1):
    """Pin this process to n CPUs (one by default), so that PyTorch and JAX
    (imported later) use one core and actgrad's threads at most n."""
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, set(cpus[:n]))


def run(sizes=(1e6, 1e7), dtypes=("float32", "float64"), names=(), no_peers=False, threads=1):
    pin_to_cores(threads)
    ag.set_num_threads(threads)
    try:
        import scipy.special as sp
    except ImportError:
        sp = None
    idioms = numpy_idioms(np, sp)
    peers = {}
    if not no_peers:
        try:
            import numexpr as ne
            ne.set_num_threads(1)
            peers["numexpr"] = ne
        except ImportError:
            pass
        try:
            import torch
            torch.set_num_threads(1)
            peers["torch"] = torch
        except ImportError:
            pass
        try:
            os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                  "intra_op_parallelism_threads=1")
            import jax
            jax.config.update("jax_enable_x64", True)
            peers["jax"] = jax
        except ImportError:
            pass

    names = list(names) or ([a.name for a in ag._table.ACTIVATIONS if a.tolerance_ulp > 0]
                            + list(AXIS))
    cols = ["actgrad", "numpy", "numexpr", "torch", "jax"]
    print(f"{'function':<12} {'form':<5} {'dtype':<8} {'n':>5} " + " ".join(f"{c:>8}" for c in cols)
          + f"   (time / np.copyto; actgrad's loops: {ag._ufuncs._get_isa()}, "
          f"{threads} thread(s))")
    for dtype in dtypes:
        for size in sizes:
            n = int(size)
            rng = np.random.default_rng(0)
            x = rng.normal(0, 3, n).astype(dtype)
            g = rng.normal(0, 1, n).astype(dtype)
            out = np.empty_like(x)
            floor = timeit(lambda: np.copyto(out, x))
            for name in names:
                if name in AXIS and n % ROW:
                    continue
                rows = (axis_rows(name, x, g, sp, peers) if name in AXIS
                        else elementwise_rows(name, x, g, out, idioms, peers))
                for form, row in rows:
                    print(f"{name:<12} {form:<5} {dtype:<8} {n:>5.0e} " + " ".join(
                        f"{row[c] / floor:8.2f}" if c in row else f"{'-':>8}" for c in cols),
                        flush=True)
    return 0

