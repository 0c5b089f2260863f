"""torch and JAX on the CPU, held to the same bound as the ufuncs.

On the committed mpmath sample (``tests/data/references.npz``) and on the
points of the dense sweep that are hardest (around every root of f, f' and
f'', and both tails where the result falls to 0: ``_sweep.extra_points``),
and on a grid of [-6, 6], each library's results must be

- within the accuracy bound of the true value (the sweep's references:
  long double / double-double, arb where they do not decide, mpmath at the
  worst point), and
- bit-identical to the NumPy ufunc's, for the direct forms (``NAME_grad(t)``)
  and for autograd through ``NAME`` (``torch.autograd``, ``jax.grad``), -0.0
  and +0.0 aside: a backward pass gives +0.0 where f' is 0.

The default suite runs a thinned set of points; ``-m slow`` all of them.
"""

from __future__ import annotations

import numpy as np
import pytest

import actgrad as ag
from actgrad.commands import sweep as _sweep
from actgrad.commands.accuracy import actgrad_function, load_references
from actgrad._table import ACTIVATIONS, FORMS, REAL, REFERENCE_CASES

from .test_accuracy_sweep import FULL_KNOWN

REFS = load_references()
CASES = [c for c in REFERENCE_CASES if c.name in REFS]
FORM_SUFFIX = {f.kind: f.suffix for f in FORMS}
LIBRARIES = ["torch", "jax"]


def public_call(case):
    """(activation name, keyword parameters) of the public function behind a case."""
    for act in ACTIVATIONS:
        for variant in act.ufunc_variants():
            if act.name + variant.suffix == case.ufunc:
                params = dict(case.params)
                if act.selector and variant.key is not REAL:
                    params[act.selector] = variant.key
                return act.name, params
    raise LookupError(case.ufunc)


class Library:
    """One library's computation of a case's forms, direct and by autograd."""

    def __init__(self, name):
        self.name = name
        if name == "torch":
            self.torch = pytest.importorskip("torch")
        else:
            self.jax = pytest.importorskip("jax")
            self.jax.config.update("jax_enable_x64", True)

    def direct(self, case, form):
        name, params = public_call(case)
        f = getattr(ag, name + FORM_SUFFIX[form])
        if self.name == "torch":
            return lambda x: f(self.torch.from_numpy(x), **params).numpy()
        jnp = self.jax.numpy
        return lambda x: np.asarray(f(jnp.asarray(x), **params))

    def autograd(self, case, form):
        """f' or f'' by the library's autograd through NAME."""
        name, params = public_call(case)
        f = getattr(ag, name)
        if self.name == "torch":
            torch = self.torch

            def derivative(x):
                t = torch.from_numpy(x).requires_grad_()
                (d,) = torch.autograd.grad(f(t, **params), t, torch.ones_like(t),
                                           create_graph=form == "grad2")
                if form == "grad2":
                    (d,) = torch.autograd.grad(d, t, torch.ones_like(t))
                return d.detach().numpy()

            return derivative
        jax = self.jax
        g = jax.grad(lambda v: f(v, **params))
        if form == "grad2":
            g = jax.grad(g)
        g = jax.jit(jax.vmap(g))
        return lambda x: np.asarray(g(jax.numpy.asarray(x)))


def points(case, form, dtype, thin):
    x = [REFS[case.name][dtype]["x"], np.linspace(-6.0, 6.0, 16001)[::thin]]
    if dtype != "float16":
        extra = _sweep.extra_points(case, form, dtype, 20_000, seed=9)
        x.append(extra[::thin])
    return np.concatenate(x).astype(dtype)


def same_bits(got, want, signed_zeros=True):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    if signed_zeros:
        equal = got.view(f"u{got.itemsize}") == want.view(f"u{want.itemsize}")
    else:
        equal = got == want
    equal |= np.isnan(got) & np.isnan(want)
    return np.flatnonzero(~equal)


def check(library, case, thin):
    lib = Library(library)
    report = []
    for dtype in ("float16", "float32", "float64"):
        for form in ("f", "grad", "grad2"):
            x = points(case, form, dtype, thin)
            want = actgrad_function(case.name, form)(x)
            got = lib.direct(case, form)(x)
            bad = same_bits(got, want)
            if bad.size:
                report.append(f"{dtype} {form}: {bad.size} differ from the ufunc, "
                              f"first x={x[bad[0]]!r}: {got[bad[0]]!r} != {want[bad[0]]!r}")
            if form != "f" and dtype != "float16":
                # float16 autograd multiplies in float16: not the fused float32 pass
                by_autograd = lib.autograd(case, form)(x)
                if library == "jax":
                    # XLA's own arithmetic on the cotangents flushes subnormal
                    # values (and products near them) to 0, and jnp.where's
                    # derivative is 0 where f' is (flushed to) 0
                    tiny = np.finfo(dtype).smallest_normal
                    zero = np.abs(want) < 16 * tiny
                    if form == "grad2":
                        zero |= np.abs(actgrad_function(case.name, "grad")(x)) < tiny
                    want = np.where(zero, np.zeros((), dtype), want)
                    by_autograd = np.where(zero, np.zeros((), dtype), by_autograd)
                bad = same_bits(by_autograd, want, signed_zeros=False)
                if bad.size:
                    report.append(
                        f"{dtype} autograd {form}: {bad.size} differ from {form}, first "
                        f"x={x[bad[0]]!r}: {by_autograd[bad[0]]!r} != {want[bad[0]]!r}")
            group = _sweep.Group(case, form, dtype, func=lib.direct(case, form))
            group.add(x)
            result = group.finish()
            # (the ufunc's own known misses are test_accuracy_sweep's)
            if result["over_bound"] and (case.name, form, dtype) not in FULL_KNOWN:
                report.append(f"{dtype} {form}: {result['over_bound']} points over "
                              f"{result['bound']} ulp, worst {result['max_ulp']:.2f} at "
                              f"x={result['x']!r}")
    assert not report, f"{library} {case.name}:\n" + "\n".join(report)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_library_is_the_ufunc_and_within_the_bound(library, case):
    check(library, case, thin=16)


@pytest.mark.slow
@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_library_is_the_ufunc_and_within_the_bound_densely(library, case):
    check(library, case, thin=1)
