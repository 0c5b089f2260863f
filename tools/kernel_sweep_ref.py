"""Independent references via python-flint arb power series (rigorous balls)."""
import flint
from flint import arb, arb_series, ctx
import numpy as np, math

def _sig(X):
    return 1 / (1 + (-X).exp())

def _tanh(X, x):
    if x >= 0:
        E = (-2 * X).exp()
    else:
        E = (2 * X).exp()
    t = (1 - E) / (1 + E)
    return t if x >= 0 else -t

def _softplus(X, x):
    if x > 0:
        return X + (1 + (-X).exp()).log()
    return (1 + X.exp()).log()

def F(name, X, x):
    if name == "sigmoid": return _sig(X)
    if name == "logsigmoid": return -_softplus(-X, -x)
    if name == "tanh": return _tanh(X, x)
    if name == "silu": return X * _sig(X)
    if name == "softplus": return _softplus(X, x)
    if name == "tanhshrink": return X - _tanh(X, x)
    if name == "gelu": return X * (-X / arb(2).sqrt()).erfc() / 2
    if name == "gelu_tanh":
        k2 = 2 * (2 / arb.pi()).sqrt()
        return X * _sig(k2 * (X + arb("0.044715") * X * X * X))
    if name == "mish": return X * _tanh(_softplus(X, x), 1.0)
    if name == "elu":
        return X if x > 0 else X.exp() - 1
    raise KeyError(name)

def ref(name, x, order):
    x = float(x)
    prec = 128
    while True:
        ctx.prec = prec
        try:
            X = arb_series([arb(x), 1], order + 1)
            y = F(name, X, x).coeffs()
            c = y[order] if order < len(y) else arb(0)
            c = c * math.factorial(order)
            if c.is_exact() or (c.rad() <= abs(c.mid()) * arb(2) ** -70 and not c.contains(0)):
                m = c.mid(); hi = float(m); lo = float(m - arb(hi)) if abs(hi) < 1e308 else 0.0
                ctx.prec = 53
                return hi, lo
            if c.rad() < arb(2) ** -1200:  # underflows in float64: zero or below the tiniest
                ctx.prec = 53
                return float(c.mid()), 0.0
        except (ZeroDivisionError, ValueError):
            pass
        prec *= 2
        if prec > 20000:
            ctx.prec = 53
            return float("nan"), 0.0

def refs(name, xs, order):
    r = np.array([ref(name, x, order) for x in xs])
    return r[:, 0], r[:, 1]
