"""actgrad on a real dask cluster: two worker processes, lazily, checked against NumPy."""

from __future__ import annotations

import os

import numpy as np
import pytest

import actgrad as ag

distributed = pytest.importorskip("dask.distributed")
da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
        worker_dashboard_address=None, memory_limit="1GiB", silence_logs=40,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning")
def test_functions_run_lazily_on_two_worker_processes(client):
    pids = client.run(os.getpid)
    assert len(pids) == 2 and len(set(pids.values())) == 2 and os.getpid() not in pids.values()

    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((400, 300)) * 4
    x_np[::7, ::5] = 0.0  # kinks
    x_np[3, 3] = np.nan
    g_np = rng.standard_normal((400, 300))
    x = da.from_array(x_np, chunks=(100, 150))  # eight chunks, not one
    g = da.from_array(g_np, chunks=(100, 150))

    lazy = {
        "relu_grad": (ag.relu_grad(x), ag.relu_grad(x_np)),
        "relu_backward": (ag.relu_backward(g, x), ag.relu_backward(g_np, x_np)),
        "leaky_relu_backward": (ag.leaky_relu_backward(g, x, negative_slope=0.2),
                                ag.leaky_relu_backward(g_np, x_np, negative_slope=0.2)),
        "hardtanh_grad": (ag.hardtanh_grad(x, min_val=-2.0, max_val=3.0),
                          ag.hardtanh_grad(x_np, min_val=-2.0, max_val=3.0)),
        "softshrink": (ag.softshrink(x, lambd=1.0), ag.softshrink(x_np, lambd=1.0)),
        "relu6_grad2": (ag.relu6_grad2(x), ag.relu6_grad2(x_np)),
    }
    for name, (result, _) in lazy.items():
        assert isinstance(result, da.Array), name  # nothing computed yet
        assert result.numblocks == (4, 2), name
    # along an axis split over two chunks: whole rows, still lazy
    along_axis = {
        "softmax": (ag.softmax(x), ag.softmax(x_np)),
        "log_softmax_backward": (ag.log_softmax_backward(g, x, axis=0),
                                 ag.log_softmax_backward(g_np, x_np, axis=0)),
        "glu": (ag.glu(x), ag.glu(x_np)),
        "prelu_backward": (ag.prelu_backward(g, x, np.linspace(-1, 1, 300))[1],
                           ag.prelu_backward(g_np, x_np, np.linspace(-1, 1, 300))[1]),
    }
    for name, (result, _) in along_axis.items():
        assert isinstance(result, da.Array), name
    lazy.update(along_axis)

    # the public functions themselves travel to the workers too (pickled by name)
    lazy["map_blocks"] = (da.map_blocks(ag.relu_backward, g, x, dtype=x.dtype),
                          ag.relu_backward(g_np, x_np))

    persisted = client.persist([r for r, _ in lazy.values()])
    distributed.wait(persisted)
    # the chunks were computed on both worker processes
    held = client.has_what()
    assert len(held) == 2 and all(held.values()), held
    for (name, (_, expected)), got in zip(lazy.items(), client.compute(persisted, sync=True)):
        if name == "prelu_backward":  # a sum over chunks: summed in another order
            np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=name)
        else:
            np.testing.assert_array_equal(got, expected, err_msg=name)
