"""Train a small multilayer perceptron in pure NumPy with actgrad's activations.

    python examples/train_mlp.py                      # ReLU, 30 epochs
    python examples/train_mlp.py --epochs 1
    python examples/train_mlp.py --activation gelu --plot loss.png

The data are scikit-learn's bundled 8x8 handwritten digits
(``sklearn.datasets.load_digits``: 1797 images, no download), split 75/25
into training and test sets.  The network is 64 -> 128 -> 64 -> 10 with the
chosen activation after each hidden layer, trained by minibatch SGD with
momentum on the softmax cross-entropy.

Two networks start from the same weights and see the same minibatches:

- **actgrad**: the activation is ``ag.NAME(z)`` on the way forward and
  ``ag.NAME_backward(grad, z)`` on the way back; the loss is
  ``ag.log_softmax`` and its gradient ``ag.log_softmax_backward``;
- **common answer**: ReLU written the way the usual answer to "ReLU
  derivative in NumPy" writes it, ``np.maximum(z, 0)`` forward and
  ``grad * ((z > 0) * 1)`` back, with the textbook softmax cross-entropy.

With ``--activation relu`` the two compute the same numbers (their losses
agree), so the comparison is one of time; with another activation it
compares that activation with ReLU.  The script prints each network's test
accuracy and time per epoch.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time

import numpy as np

import actgrad as ag


def elementwise_activations() -> list[str]:
    """The names that have all four forms: the elementwise activations."""
    return [name for name in ag.__all__
            if all(name + s in ag.__all__ for s in ("_grad", "_grad2", "_backward"))]


def required_params(name: str) -> dict:
    """0.0 for each parameter without a default (threshold's threshold and value)."""
    sig = inspect.signature(getattr(ag, name))
    return {p.name: 0.0 for p in list(sig.parameters.values())[1:]
            if p.default is inspect.Parameter.empty
            and p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD}


# --- the two ways of writing the activation and the loss -------------------

class Actgrad:
    """The activation and loss from actgrad: forward ag.NAME, backward ag.NAME_backward."""

    def __init__(self, name: str):
        self.label = f"actgrad {name}"
        self.params = required_params(name)
        self.f = getattr(ag, name)
        self.backward = getattr(ag, name + "_backward")

    def act(self, z):
        return self.f(z, **self.params)

    def act_backward(self, grad, z):
        return self.backward(grad, z, **self.params)

    @staticmethod
    def loss_and_grad(logits, onehot):
        logp = ag.log_softmax(logits, axis=-1)
        n = len(logits)
        loss = -np.sum(onehot * logp) / n
        # d loss / d logp = -onehot / n, then through log_softmax
        return loss, ag.log_softmax_backward(-onehot / n, logits, axis=-1)


class CommonAnswer:
    """ReLU and its derivative as usually written in NumPy: (z > 0) * 1."""

    label = "common answer: (x > 0) * 1"

    @staticmethod
    def act(z):
        return np.maximum(z, 0)

    @staticmethod
    def act_backward(grad, z):
        return grad * ((z > 0) * 1)

    @staticmethod
    def loss_and_grad(logits, onehot):
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e / e.sum(axis=1, keepdims=True)
        n = len(logits)
        loss = -np.sum(onehot * (shifted - np.log(e.sum(axis=1, keepdims=True)))) / n
        return loss, (s - onehot) / n


# --- the network -----------------------------------------------------------

class MLP:
    def __init__(self, sizes, rng):
        # He initialisation, the usual choice for ReLU-like activations
        self.W = [rng.standard_normal((m, n)) * np.sqrt(2.0 / m) for m, n in zip(sizes, sizes[1:])]
        self.b = [np.zeros(n) for n in sizes[1:]]
        self.vW = [np.zeros_like(w) for w in self.W]
        self.vb = [np.zeros_like(b) for b in self.b]

    def copy(self):
        other = object.__new__(MLP)
        for attr in ("W", "b", "vW", "vb"):
            setattr(other, attr, [a.copy() for a in getattr(self, attr)])
        return other

    def forward(self, ops, x):
        """The logits, and the pre-activations z and activations a of each layer."""
        zs, acts = [], [x]
        for i, (w, b) in enumerate(zip(self.W, self.b)):
            z = acts[-1] @ w + b
            if i == len(self.W) - 1:
                return z, zs, acts
            zs.append(z)
            acts.append(ops.act(z))

    def step(self, ops, x, onehot, lr, momentum):
        logits, zs, acts = self.forward(ops, x)
        loss, grad = ops.loss_and_grad(logits, onehot)
        for i in reversed(range(len(self.W))):
            gW, gb = acts[i].T @ grad, grad.sum(axis=0)
            if i > 0:
                grad = ops.act_backward(grad @ self.W[i].T, zs[i - 1])
            self.vW[i] = momentum * self.vW[i] - lr * gW
            self.vb[i] = momentum * self.vb[i] - lr * gb
            self.W[i] += self.vW[i]
            self.b[i] += self.vb[i]
        return loss

    def accuracy(self, ops, x, y):
        logits, _, _ = self.forward(ops, x)
        return float(np.mean(np.argmax(logits, axis=1) == y))


def load_data(seed):
    from sklearn.datasets import load_digits

    digits = load_digits()
    # pixels 0..16, standardised per pixel (the always-blank ones stay 0)
    x = digits.data
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-8)
    y = digits.target
    order = np.random.default_rng(seed).permutation(len(x))
    cut = len(x) * 3 // 4
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def train(args):
    from tqdm import tqdm

    x_train, y_train, x_test, y_test = load_data(args.seed)
    onehot = np.eye(10)[y_train]
    rng = np.random.default_rng(args.seed)
    start = MLP([64, args.hidden, args.hidden // 2, 10], rng)
    runs = [(Actgrad(args.activation), start), (CommonAnswer(), start.copy())]
    history = {ops.label: [] for ops, _ in runs}
    seconds = {ops.label: 0.0 for ops, _ in runs}
    bar = tqdm(range(args.epochs), desc="epochs", unit="epoch", file=sys.stderr,
               disable=args.no_progress)
    for epoch in bar:
        order = rng.permutation(len(x_train))
        batches = [order[i:i + args.batch] for i in range(0, len(order), args.batch)]
        for ops, net in runs:
            t0 = time.perf_counter()
            losses = [net.step(ops, x_train[idx], onehot[idx], args.lr, args.momentum)
                      for idx in batches]
            seconds[ops.label] += time.perf_counter() - t0
            history[ops.label].append(float(np.mean(losses)))
        bar.set_postfix(loss=f"{history[runs[0][0].label][-1]:.4f}")

    print(f"digits: {len(x_train)} training and {len(x_test)} test images, "
          f"MLP 64-{args.hidden}-{args.hidden // 2}-10, {args.epochs} epoch(s), seed {args.seed}")
    results = {}
    for ops, net in runs:
        acc = net.accuracy(ops, x_test, y_test)
        per_epoch = seconds[ops.label] / args.epochs
        results[ops.label] = acc
        print(f"{ops.label:>28}: test accuracy {100 * acc:5.1f} %, "
              f"{1000 * per_epoch:7.1f} ms per epoch, final training loss "
              f"{history[ops.label][-1]:.4f}")
    if args.plot:
        plot(history, args)
    return results


def plot(history, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    epochs = np.arange(1, args.epochs + 1)
    for (label, losses), style in zip(history.items(), ("-", "--")):
        ax.plot(epochs, losses, style, label=label, marker="o" if args.epochs < 15 else None)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean training loss (cross-entropy)")
    ax.set_title(f"MLP on sklearn digits, {args.activation}")
    ax.legend()
    fig.savefig(args.plot, dpi=110)
    print(f"loss curve saved to {args.plot}")


def main(argv=None):
    names = elementwise_activations()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30, help="passes over the training set (default 30)")
    parser.add_argument("--activation", default="relu", choices=names, metavar="NAME",
                        help="any elementwise activation: " + ", ".join(names) + " (default relu)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, weights and batches")
    parser.add_argument("--hidden", type=int, default=128, help="width of the first hidden layer")
    parser.add_argument("--batch", type=int, default=32, help="minibatch size")
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate")
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--plot", metavar="FILE", help="save the loss curves to FILE (png, svg, pdf)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    train(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
