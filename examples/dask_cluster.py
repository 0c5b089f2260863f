"""actgrad on a dask cluster: a backward pass over an array bigger than one chunk.

    python examples/dask_cluster.py                  # 10^8 float32, 2 worker processes
    python examples/dask_cluster.py --size 1e9 --workers 4

actgrad's functions are NumPy ufuncs, so a dask array stays lazy through
them and each chunk is computed by a worker process; nothing here is specific
to actgrad but the function names.  The dashboard link (if bokeh is
installed) shows the task stream; the terminal shows a progress bar.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import dask.array as da
from dask.distributed import Client, LocalCluster, progress

import actgrad as ag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=float, default=1e8, help="elements (default 1e8)")
    parser.add_argument("--chunk", type=float, default=5e6, help="elements per chunk")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    n, chunk = int(args.size), int(args.chunk)

    with LocalCluster(n_workers=args.workers, processes=True, threads_per_worker=1) as cluster, \
            Client(cluster) as client:
        print(f"cluster: {args.workers} worker processes; dashboard: {client.dashboard_link}")

        x = da.random.default_rng(0).standard_normal(n, chunks=chunk, dtype=np.float32)
        g = da.random.default_rng(1).standard_normal(n, chunks=chunk, dtype=np.float32)

        # Lazy: these build task graphs, nothing is computed yet.
        grad_input = ag.leaky_relu_backward(g, x, negative_slope=0.1)
        dead = (ag.relu_grad(x) == 0).mean()
        print(f"{n:,} float32 elements in {x.numblocks[0]} chunks; "
              f"grad_input is a lazy {type(grad_input).__name__}")

        start = time.perf_counter()
        total, dead_fraction, first = client.compute(
            [grad_input.sum(dtype=np.float64), dead, grad_input[:chunk]])
        progress([total, dead_fraction, first])
        total, dead_fraction, first = total.result(), dead_fraction.result(), first.result()
        print(f"\nsum(grad_input) = {total:.6g}, fraction of dead units = {dead_fraction:.4f} "
              f"({time.perf_counter() - start:.1f} s)")

        # The first chunk, checked against plain NumPy on this process.
        x0 = x[:chunk].compute()
        g0 = g[:chunk].compute()
        np.testing.assert_array_equal(first, np.where(x0 > 0, g0, np.float32(0.1) * g0))
        print("first chunk matches NumPy")


if __name__ == "__main__":
    main()
