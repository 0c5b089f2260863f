"""The array libraries the cross-backend tests run on.

``ACTGRAD_TEST_BACKENDS`` (comma-separated names) picks them; by default every
one that imports (and, for the CUDA ones, finds a GPU).  Each backend turns a
NumPy array into its own array, back again, and knows its type:

    torch, torch-cuda, jax, cupy   computed by their own library (actgrad.backends.xp)
    dask, xarray, masked, pint     through the ufunc (__array_ufunc__)
"""

from __future__ import annotations

import importlib
import os

import numpy as np
import pytest

ENV = "ACTGRAD_TEST_BACKENDS"


class Backend:
    name = ""
    modules: tuple[str, ...] = ()
    #: dtypes the library cannot hold
    unsupported: frozenset = frozenset()
    #: computed by the library itself (True) or through the ufunc (False)
    own_library = False
    #: broadcasts (2, 1) against (n,) as NumPy does
    positional_broadcast = True
    #: XLA on CPU treats subnormal inputs and results as zero (FTZ/DAZ)
    flushes_subnormals = False

    def available(self) -> str | None:
        """None if usable, else why not."""
        for module in self.modules:
            try:
                importlib.import_module(module)
            except Exception as exc:  # ImportError, or a broken CUDA install
                return f"{module} does not import: {exc}"
        return None

    def asarray(self, a: np.ndarray):
        raise NotImplementedError

    def to_numpy(self, y) -> np.ndarray:
        raise NotImplementedError

    def is_own(self, y) -> bool:
        raise NotImplementedError

    def __repr__(self):
        return self.name


class Torch(Backend):
    name, modules, own_library = "torch", ("torch",), True
    device = "cpu"
    unsupported = frozenset({"uint32", "uint64"})

    def asarray(self, a):
        import torch

        return torch.from_numpy(np.array(a)).to(self.device)

    def to_numpy(self, y):
        return y.detach().cpu().numpy()

    def is_own(self, y):
        import torch

        return isinstance(y, torch.Tensor) and y.device.type == self.device


class TorchCuda(Torch):
    name, device = "torch-cuda", "cuda"

    def available(self):
        why = super().available()
        if why is None:
            import torch

            if not torch.cuda.is_available():
                return "no CUDA device"
        return why


class Jax(Backend):
    name, modules, own_library = "jax", ("jax",), True
    flushes_subnormals = True

    def available(self):
        why = super().available()
        if why is None:
            import jax

            # float64 is a dtype under test; JAX needs x64 for it.
            jax.config.update("jax_enable_x64", True)
        return why

    def asarray(self, a):
        import jax.numpy as jnp

        return jnp.asarray(a)

    def to_numpy(self, y):
        return np.asarray(y)

    def is_own(self, y):
        import jax

        return isinstance(y, jax.Array)


class Cupy(Backend):
    name, modules, own_library = "cupy", ("cupy",), True
    unsupported = frozenset({"longdouble"})

    def available(self):
        why = super().available()
        if why is None:
            import cupy

            try:
                if cupy.cuda.runtime.getDeviceCount() < 1:
                    return "no CUDA device"
            except Exception as exc:
                return f"no CUDA device: {exc}"
        return why

    def asarray(self, a):
        import cupy

        return cupy.asarray(a)

    def to_numpy(self, y):
        return y.get()

    def is_own(self, y):
        import cupy

        return isinstance(y, cupy.ndarray)


class Dask(Backend):
    name, modules = "dask", ("dask.array",)

    def asarray(self, a):
        import dask.array as da

        chunks = tuple(max(1, (n + 2) // 3) for n in a.shape)  # several chunks
        return da.from_array(a, chunks=chunks)

    def to_numpy(self, y):
        return np.asarray(y.compute(scheduler="synchronous"))

    def is_own(self, y):
        import dask.array as da

        return isinstance(y, da.Array)


class Xarray(Backend):
    name, modules = "xarray", ("xarray",)
    positional_broadcast = False

    def asarray(self, a):
        import xarray as xr

        return xr.DataArray(a, dims=[f"d{i}" for i in range(a.ndim)], attrs={"kept": 1})

    def to_numpy(self, y):
        return y.values

    def is_own(self, y):
        import xarray as xr

        return isinstance(y, xr.DataArray)


class Masked(Backend):
    name = "masked"

    def asarray(self, a):
        mask = np.zeros(a.shape, bool)
        if a.ndim and a.size:
            mask.flat[::3] = True
        return np.ma.masked_array(a, mask=mask)

    def to_numpy(self, y):
        return np.ma.getdata(y)

    def is_own(self, y):
        return isinstance(y, np.ma.MaskedArray)


class Pint(Backend):
    name, modules = "pint", ("pint",)

    def asarray(self, a):
        import pint

        return pint.get_application_registry().Quantity(a, "dimensionless")

    def to_numpy(self, y):
        assert y.dimensionless
        return np.asarray(y.magnitude)

    def is_own(self, y):
        import pint

        return isinstance(y, pint.Quantity)


ALL = {b.name: b for b in (Torch(), TorchCuda(), Jax(), Cupy(), Dask(), Xarray(), Masked(), Pint())}


def selected() -> list[tuple[Backend, str | None]]:
    """(backend, reason to skip or None) for every backend this run covers."""
    names = os.environ.get(ENV, "").strip()
    if names:
        chosen = [n.strip() for n in names.split(",") if n.strip()]
        unknown = sorted(set(chosen) - set(ALL))
        if unknown:
            raise ValueError(f"{ENV}: unknown backends {unknown}; known: {sorted(ALL)}")
    else:
        chosen = list(ALL)
    return [(ALL[n], ALL[n].available()) for n in chosen]


def _backend_fixture(request):
    """One array library (the name follows the Array API habit); skipped where
    it is not available, failed where ACTGRAD_TEST_BACKENDS asked for it."""
    backend = request.param
    why = dict((b.name, w) for b, w in _SELECTED)[backend.name]
    if why is not None:
        if os.environ.get(ENV, "").strip():
            pytest.fail(f"{ENV} asks for {backend.name}, but {why}")
        pytest.skip(f"{backend.name}: {why}")
    return backend


_SELECTED = selected()
#: the ``xp`` fixture of the cross-backend tests: ``xp = xp_backends.xp``
xp = pytest.fixture(params=[b for b, _ in _SELECTED],
                    ids=[b.name for b, _ in _SELECTED])(_backend_fixture)
