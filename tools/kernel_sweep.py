"""Dense ulp sweeps of tools/kernel_harness.cpp builds (python-flint needed).

kernel_sweep.py BIN NAMES ORDERS [--f32-step K] [--f64-n N] : dense ulp sweeps.
float32: every K-th bit pattern, reference = float64 kernel of BIN (itself checked by the
float64 sweep against flint), worst points confirmed with flint.
float64: N points (log-uniform magnitudes both signs + uniform [-45,45] + around roots), flint."""
import sys, subprocess, numpy as np, argparse, os
sys.path.insert(0, os.path.dirname(__file__))
import kernel_sweep_ref as R
ap = argparse.ArgumentParser()
ap.add_argument("bin"); ap.add_argument("names"); ap.add_argument("orders", default="012")
ap.add_argument("--f32-step", type=int, default=256); ap.add_argument("--f64-n", type=int, default=200000)
ap.add_argument("--no32", action="store_true"); ap.add_argument("--no64", action="store_true")
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
import tempfile
tmp = os.path.join(tempfile.gettempdir(), f"kernel_sweep{os.getpid()}")
def run(name, o, x):
    x.tofile(tmp + ".in")
    subprocess.run([a.bin, name, str(o), "f" if x.dtype == np.float32 else "d", tmp + ".in", tmp + ".out"], check=True)
    return np.fromfile(tmp + ".out", dtype=x.dtype)
def ulps(got, hi, lo, dt):
    got = got.astype(np.float64)
    fin = np.isfinite(hi)
    sp = np.spacing(np.abs(hi).astype(dt)).astype(np.float64)
    sp = np.where(sp == 0, np.finfo(dt).smallest_subnormal, sp)
    with np.errstate(all="ignore"):
        e = np.abs((got - hi) - lo) / sp
    e = np.where(fin, e, np.where((got == hi) | (np.isnan(got) & np.isnan(hi)), 0.0, np.inf))
    return np.where(np.isnan(e), np.inf, e)
roots = {"silu": [-1.2784645427610738, 2.3993572805154676, -2.3993572805154676], "gelu": [-0.7517915246935213, 1.4142135623730951, -1.4142135623730951],
         "gelu_tanh": [-0.7525, 1.4185, -1.4185], "mish": [-1.1924, -2.2564, 1.4906], "tanhshrink": [0.0]}
rng = np.random.default_rng(a.seed)
for name in a.names.split(","):
    for o in map(int, a.orders):
        if not a.no32:
            bits = np.arange(0, 2**32, a.f32_step, dtype=np.uint64).astype(np.uint32)
            x = bits.view(np.float32); x = x[np.isfinite(x)]
            got = run(name, o, x); refd = run(name, o, x.astype(np.float64))
            with np.errstate(all="ignore"):
                lo = np.zeros_like(refd)
            e = ulps(got, refd, lo, np.float32)
            idx = np.argsort(e)[-6:][::-1]
            conf = []
            for i in idx:
                h, l = R.ref(name, float(x[i]), o)
                conf.append((float(x[i]), float(ulps(got[i:i+1], np.array([h]), np.array([l]), np.float32)[0])))
            wc = max(conf, key=lambda t: t[1])
            print(f"{name:10s} o{o} f32 step{a.f32_step:<4d} n={x.size:9d} worst(f64 ref) {e[idx[0]]:.3f} at {x[idx[0]]!r}; flint-confirmed worst of top6 {wc[1]:.3f} at {wc[0]!r}", flush=True)
        if not a.no64:
            n = a.f64_n
            m = rng.uniform(-300, np.log10(800), n // 2); s = rng.choice([-1.0, 1.0], n // 2)
            pts = [s * 10.0 ** m, rng.uniform(-45, 45, n // 4)]
            for r0 in roots.get(name, []):
                pts.append(r0 + rng.uniform(-1, 1, n // 16) * 10.0 ** rng.uniform(-16, 0, n // 16))
            x = np.concatenate(pts)
            got = run(name, o, x)
            hi, lo = R.refs(name, x, o)
            e = ulps(got, hi, lo, np.float64)
            i = int(np.argmax(e))
            print(f"{name:10s} o{o} f64 n={x.size:9d} worst {e[i]:.3f} at {x[i]!r} (got {got[i]!r}, ref {hi[i]!r})", flush=True)
