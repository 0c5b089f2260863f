"""Print the README's table of ReLU-derivative semantics at the edges.

Every cell is computed by running the expression, so the table in the README
is measured, not typed.  PyTorch and JAX columns appear when installed.

    python tools/semantics_table.py
"""

import warnings

import numpy as np

import actgrad as ag

POINTS = [("0.0", 0.0), ("-0.0", -0.0), ("NaN", np.nan), ("+inf", np.inf), ("-inf", -np.inf)]


def masked_assignment(x):
    d = x.copy()
    d[d <= 0] = 0
    d[d > 0] = 1
    return d


def candidates():
    yield "`ag.relu_grad(x)`", ag.relu_grad
    yield "`(x > 0) * 1`", lambda x: (x > 0) * 1
    yield "`np.where(x <= 0, 0, 1)`", lambda x: np.where(x <= 0, 0, 1)
    yield "`np.heaviside(x, 0)`", lambda x: np.heaviside(x, 0)
    yield "`np.greater(x, 0).astype(int)`", lambda x: np.greater(x, 0).astype(int)
    yield "masked assignment on a copy", masked_assignment
    try:
        import torch
    except ImportError:
        pass
    else:
        def torch_grad(x):
            t = torch.tensor(x, requires_grad=True)
            torch.relu(t).sum().backward()
            return t.grad.numpy()

        yield f"PyTorch {torch.__version__.split('+')[0]} autograd", torch_grad
    try:
        import jax
    except ImportError:
        pass
    else:
        jax.config.update("jax_enable_x64", True)

        def jax_grad(x):
            return np.asarray(jax.vmap(jax.grad(jax.nn.relu))(x))

        yield f"JAX {jax.__version__} `grad(relu)`", jax_grad


def cell(value):
    if np.isnan(value):
        return "nan"
    return repr(float(value)) if value.dtype.kind == "f" else repr(int(value))


def main():
    header = ["expression"] + [f"at {name}" for name, _ in POINTS] + ["float32 in →", "warns"]
    rows = []
    for label, fn in candidates():
        x = np.array([v for _, v in POINTS])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = np.asarray(fn(x))
            dtype32 = np.asarray(fn(x.astype(np.float32))).dtype
        rows.append([label] + [cell(v) for v in out] + [str(dtype32), "yes" if caught else "no"])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
