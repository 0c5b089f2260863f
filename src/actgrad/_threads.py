"""Opt-in threads for the elementwise loops.

``set_num_threads(n)`` lets a loop over many elements (at least 2**17, so
small arrays never pay for waking a thread) be split across a persistent
pool of ``n - 1`` worker threads plus the calling thread; the default is 1,
or the environment variable ``ACTGRAD_NUM_THREADS`` read at import.  The
count is global (one pool per process), like OpenBLAS's.  Results are
bit-identical for every count.  The axis functions (softmax, ...) stay on
one thread.

threadpoolctl sees the pool as ``internal_api="actgrad"``: its controller is
registered when threadpoolctl is imported, before or after actgrad (an
import hook waits for it, so ``import actgrad`` never imports it).
"""

from __future__ import annotations

import contextlib
import os
import sys

from . import _ufuncs

__all__ = ["set_num_threads", "get_num_threads", "threads"]

_ENV = "ACTGRAD_NUM_THREADS"


def _count(n, origin: str) -> int:
    try:
        value = int(n) if isinstance(n, str) else n.__index__()
    except (TypeError, ValueError, AttributeError):
        raise TypeError(f"{origin}: expected a positive int thread count, got {n!r}") from None
    if value < 1:
        raise ValueError(f"{origin}: expected a positive int thread count, got {n!r}")
    return value


def set_num_threads(n: int) -> int:
    """Let each large elementwise loop use ``n`` threads; return the previous count.

    ``n = 1`` (the default) keeps every loop on the calling thread.
    """
    return _ufuncs._set_num_threads(_count(n, "actgrad.set_num_threads"))


def get_num_threads() -> int:
    """The number of threads a large elementwise loop may use."""
    return _ufuncs._get_num_threads()


@contextlib.contextmanager
def threads(n: int):
    """``with actgrad.threads(n): ...`` runs the block with ``n`` threads, then restores.

    The count is process-wide: another Python thread's calls inside the
    block use it too.
    """
    previous = set_num_threads(n)
    try:
        yield
    finally:
        _ufuncs._set_num_threads(previous)


def _from_environment():
    value = os.environ.get(_ENV, "").strip()
    if value:
        set_num_threads(_count(value, _ENV))


# ---------------------------------------------------------------------------
# threadpoolctl

_registered = False


def _register_threadpoolctl(threadpoolctl) -> None:
    """Tell threadpoolctl about actgrad's pool (once)."""
    global _registered
    if _registered:
        return
    _registered = True
    import ctypes

    class ActgradController(threadpoolctl.LibController):
        user_api = "actgrad"
        internal_api = "actgrad"
        # The extension module actgrad/_ufuncs.cpython-*.so; the symbol check
        # tells it from other modules of that name (scipy.special's).
        filename_prefixes = ("_ufuncs",)
        check_symbols = ("actgrad_get_num_threads", "actgrad_set_num_threads")

        def get_num_threads(self):
            get = getattr(self.dynlib, "actgrad_get_num_threads", None)
            return None if get is None else get()

        def set_num_threads(self, num_threads):
            set_ = getattr(self.dynlib, "actgrad_set_num_threads", None)
            if set_ is not None:
                set_(ctypes.c_int(num_threads))

        def get_version(self):
            get = getattr(self.dynlib, "actgrad_get_version", None)
            if get is None:
                return None
            get.restype = ctypes.c_char_p
            return get().decode()

    threadpoolctl.register(ActgradController)


class _ThreadpoolctlHook:
    """A meta path finder that registers the controller once threadpoolctl is imported."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "threadpoolctl":
            return None
        sys.meta_path.remove(_HOOK)
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        class _Loader:
            def __getattr__(self, attr):
                return getattr(loader, attr)

            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                exec_module(module)
                _register_threadpoolctl(module)

        spec.loader = _Loader()
        return spec


_HOOK = _ThreadpoolctlHook()


def _install():
    _from_environment()
    if "threadpoolctl" in sys.modules:
        _register_threadpoolctl(sys.modules["threadpoolctl"])
    else:
        sys.meta_path.insert(0, _HOOK)
