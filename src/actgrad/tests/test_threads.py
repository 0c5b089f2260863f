"""Opt-in threads: the same bits for every count, fork, threadpoolctl,
concurrent callers, exit."""

import subprocess
import sys
import threading

import numpy as np
import pytest

import actgrad as ag
from actgrad import _ufuncs
from actgrad.tests.conftest import CASE_FORM_PARAMS, call_form

THRESHOLD = 1 << 17  # pool.hpp's parallel_min


@pytest.fixture(autouse=True)
def _one_thread_after():
    yield
    ag.set_num_threads(1)


def _inputs(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 6).astype(dtype)
    x[:: 997] = np.nan
    x[1:: 1009] = np.inf
    x[2:: 1013] = -np.inf
    g = rng.standard_normal(n).astype(dtype)
    return x, g


def _bits(a):
    a = np.asarray(a)
    return a.view(np.uint8)


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_thread_counts_give_the_same_bits(case, form):
    # sizes just under, at and over the threshold, with odd tails
    for n, dtype in ((THRESHOLD - 1, np.float32), (THRESHOLD + 37, np.float64),
                     (3 * THRESHOLD + 5, np.float32)):
        x, g = _inputs(n, dtype)
        with np.errstate(all="ignore"):
            ag.set_num_threads(1)
            want = call_form(case, form, x, g)
            for t in (2, 3, 5, 8):
                ag.set_num_threads(t)
                np.testing.assert_array_equal(_bits(call_form(case, form, x, g)), _bits(want),
                                              err_msg=f"{t} threads, n={n}")


@pytest.mark.parametrize("layout", ["strided", "float16", "unaligned", "offset"])
def test_gathered_and_large_loops(layout):
    n = 1 << 22  # 16 MiB of float32: the streaming stores too
    x, _ = _inputs(n + 64, np.float32, seed=3)
    if layout == "strided":
        x = x[::2]
    elif layout == "float16":
        x = x.astype(np.float16)
    elif layout == "offset":
        x = x[3:]
    else:
        buf = np.empty(4 * n + 1, np.uint8)
        unaligned = buf[1:].view(np.float32)
        unaligned[...] = x[:n]
        assert not unaligned.flags.aligned
        x = unaligned
    for name in ("gelu", "mish_grad", "softplus", "silu", "relu"):
        f = getattr(ag, name)
        with np.errstate(all="ignore"):
            ag.set_num_threads(1)
            want = f(x)
            for t in (2, 4, 7):
                ag.set_num_threads(t)
                out = np.full_like(want, 7)
                f(x, out=out)
                np.testing.assert_array_equal(_bits(out), _bits(want), err_msg=f"{name} {t}")
                np.testing.assert_array_equal(_bits(f(x)), _bits(want))


def test_varying_parameters_split():
    n = 3 * THRESHOLD + 11
    x, _ = _inputs(n, np.float32, seed=4)
    slope = np.linspace(-1, 1, n)
    ag.set_num_threads(1)
    want = ag.ufuncs.leaky_relu(x, slope)
    ag.set_num_threads(4)
    np.testing.assert_array_equal(_bits(ag.ufuncs.leaky_relu(x, slope)), _bits(want))


def test_api():
    assert ag.get_num_threads() == 1
    assert ag.set_num_threads(3) == 1
    assert ag.get_num_threads() == 3
    with ag.threads(2):
        assert ag.get_num_threads() == 2
    assert ag.get_num_threads() == 3
    with pytest.raises(ValueError, match="set_num_threads"):
        ag.set_num_threads(0)
    with pytest.raises(TypeError, match="set_num_threads"):
        ag.set_num_threads(2.5)
    assert ag.get_num_threads() == 3


def test_pool_is_used_only_above_the_threshold():
    code = ("import actgrad as ag, numpy as np\n"
            "ag.set_num_threads(4)\n"
            "ag.gelu(np.ones(1 << 16, np.float32))\n"
            "assert ag._ufuncs._pool_workers() == 0\n"
            "ag.gelu(np.ones(1 << 20, np.float32))\n"
            "assert ag._ufuncs._pool_workers() == 3, ag._ufuncs._pool_workers()\n")
    _run(code)


def _run(code, env=None):
    import os

    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300, check=False, env={**os.environ, **(env or {})})
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_environment_variable():
    assert _run("import actgrad; print(actgrad.get_num_threads())",
                {"ACTGRAD_NUM_THREADS": "3"}).strip() == "3"
    r = subprocess.run([sys.executable, "-c", "import actgrad"], capture_output=True,
                       text=True, timeout=120, check=False,
                       env={**__import__("os").environ, "ACTGRAD_NUM_THREADS": "zero"})
    assert r.returncode != 0 and "ACTGRAD_NUM_THREADS" in r.stderr


def _work(_):
    x = np.linspace(-8, 8, 1 << 20, dtype=np.float32)
    return ag.gelu(x).tobytes()


def test_fork_after_threads():
    # in a fresh interpreter: a library other tests imported (JAX) warns at fork
    code = ("import multiprocessing, numpy as np, actgrad as ag\n"
            "from actgrad.tests.test_threads import _work\n"
            "ag.set_num_threads(4)\n"
            "want = _work(None)  # the parent's pool has workers now\n"
            "with multiprocessing.get_context('fork').Pool(2) as pool:\n"
            "    got = pool.map(_work, range(4), chunksize=1)\n"
            "assert all(g == want for g in got)\n"
            "assert _work(None) == want  # the parent's pool still works\n"
            "print('ok')\n")
    assert _run(code).strip() == "ok"


def test_concurrent_callers():
    ag.set_num_threads(3)
    x = np.linspace(-8, 8, 1 << 19, dtype=np.float64)
    ag.set_num_threads(1)
    want = ag.mish(x)
    ag.set_num_threads(3)
    errors = []

    def caller():
        try:
            for _ in range(20):
                np.testing.assert_array_equal(ag.mish(x), want)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=caller) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "deadlock"
    assert not errors, errors[0]


def test_exit_while_threads_run():
    # daemon threads still calling into the pool when the interpreter exits
    code = ("import threading, numpy as np, actgrad as ag\n"
            "ag.set_num_threads(4)\n"
            "x = np.ones(1 << 20, np.float32)\n"
            "def loop():\n"
            "    while True: ag.gelu(x)\n"
            "for _ in range(3): threading.Thread(target=loop, daemon=True).start()\n"
            "ag.gelu(x)\n"
            "print('ok')\n")
    assert _run(code).strip() == "ok"


def _needs_threadpoolctl():
    pytest.importorskip("threadpoolctl")


def test_threadpoolctl_after_actgrad():
    _needs_threadpoolctl()
    code = ("import actgrad as ag, sys\n"
            "assert 'threadpoolctl' not in sys.modules\n"
            "ag.set_num_threads(3)\n"
            "import threadpoolctl\n"
            "info = [i for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'actgrad']\n"
            "assert len(info) == 1, threadpoolctl.threadpool_info()\n"
            "assert info[0]['num_threads'] == 3 and info[0]['version'] == ag.__version__, info\n"
            "with threadpoolctl.threadpool_limits(1):\n"
            "    assert ag.get_num_threads() == 1\n"
            "assert ag.get_num_threads() == 3\n"
            "with threadpoolctl.threadpool_limits(2, user_api='actgrad'):\n"
            "    assert ag.get_num_threads() == 2\n"
            "assert ag.get_num_threads() == 3\n")
    _run(code)


def test_threadpoolctl_before_actgrad():
    _needs_threadpoolctl()
    code = ("import threadpoolctl, actgrad as ag\n"
            "ag.set_num_threads(2)\n"
            "apis = [i['internal_api'] for i in threadpoolctl.threadpool_info()]\n"
            "assert 'actgrad' in apis, apis\n"
            "with threadpoolctl.threadpool_limits(1):\n"
            "    assert ag.get_num_threads() == 1\n")
    _run(code)


def test_import_does_not_import_threadpoolctl():
    _run("import actgrad, sys; assert 'threadpoolctl' not in sys.modules")
