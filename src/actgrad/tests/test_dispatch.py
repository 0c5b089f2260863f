"""The one dispatch: the kind of an argument, the public functions' signatures,
and the torch operator under torch.compile."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import actgrad as ag
from actgrad.backends import kinds as _kinds
from actgrad._table import ACTIVATIONS, FORMS


def test_kinds_of_the_types_actgrad_meets():
    assert _kinds.kind_of_type(np.ndarray) == "numpy"
    assert _kinds.kind_of_type(np.ma.MaskedArray) == "masked"
    assert _kinds.kind_of_type(float) == "other"
    assert _kinds.kind_of_type(list) == "other"

    class MyMasked(np.ma.MaskedArray):
        pass

    assert _kinds.kind_of_type(MyMasked) == "masked"
    for module, make, kind in (
            ("torch", lambda m: m.zeros(2), "torch"),
            ("jax.numpy", lambda m: m.zeros(2), "jax"),
            ("dask.array", lambda m: m.zeros(2), "dask"),
            ("xarray", lambda m: m.DataArray(np.zeros(2)), "xarray"),
            ("pint", lambda m: m.UnitRegistry().Quantity(np.zeros(2), "m"), "pint"),
            ("astropy.units", lambda m: np.zeros(2) * m.m, "astropy")):
        m = pytest.importorskip(module)
        assert _kinds.kind_of_type(type(make(m))) == kind, module


def test_the_array_library_wins_then_containers_then_quantities():
    torch = pytest.importorskip("torch")
    da = pytest.importorskip("dask.array")
    masked = np.ma.masked_array([1.0, 2.0])
    assert _kinds.kind_of([1.0, masked]) == "masked"
    assert _kinds.kind_of([masked, da.zeros(2)]) == "masked"  # the first container
    assert _kinds.kind_of([masked, torch.zeros(2)]) == "torch"
    assert _kinds.kind_of([np.zeros(2), 2.0]) == "numpy"


def test_kind_is_decided_once_per_type():
    class Fresh:
        pass

    assert Fresh not in _kinds._BY_TYPE
    _kinds.kind_of([Fresh()])
    assert _kinds._BY_TYPE[Fresh] == "other"


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: a.name)
def test_signatures_show_the_tables_parameters(act):
    for form in FORMS:
        sig = inspect.signature(getattr(ag, act.function_name(form)))
        names = list(sig.parameters)
        assert names[:len(form.arrays)] == list(form.arrays)
        for p in act.params:
            param = sig.parameters[p.name]
            expected = inspect.Parameter.empty if p.required else p.default
            assert param.default == expected or (param.default is expected), (p.name, param)
        # every parameter can be given by keyword and gives the same result
        x = np.linspace(-3, 3, 7)
        arrays = (np.ones_like(x), x) if form.kind == "backward" else (x,)
        values = {p.name: p.default for p in act.params if not p.required}
        if any(p.required for p in act.params):
            values = {"threshold": 0.5, "value": -1.0}
        f = getattr(ag, act.function_name(form))
        by_keyword = f(*arrays, **values)
        by_position = f(*arrays, *values.values())
        np.testing.assert_array_equal(by_keyword, by_position)


def test_wrong_parameters_are_named():
    x = np.zeros(3)
    with pytest.raises(TypeError, match="leaky_relu"):
        ag.leaky_relu(x, 0.1, 0.2)
    with pytest.raises(TypeError, match="threshold.*'value'"):
        ag.threshold(x, 0.5)
    with pytest.raises(ValueError, match="hardtanh_grad"):
        ag.hardtanh_grad(x, max_val=-2.0)


def test_torch_compile_keeps_one_operator_with_its_gradient():
    torch = pytest.importorskip("torch")
    x = torch.linspace(-4, 4, 9, dtype=torch.float64)

    def loss(v):
        return (ag.gelu(v) * ag.softmax(v)).sum()

    compiled = torch.compile(loss, backend="aot_eager", fullgraph=True)
    t1, t2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y1, y2 = loss(t1), compiled(t2)
    assert torch.equal(y1, y2)
    (d1,), (d2,) = torch.autograd.grad(y1, t1), torch.autograd.grad(y2, t2)
    assert torch.equal(d1, d2)
    # it is actgrad's operator that runs
    ops = []
    from torch._dynamo.testing import CompileCounterWithBackend

    counter = CompileCounterWithBackend("aot_eager")

    def record(gm, example_inputs):
        ops.extend(str(n.target) for n in gm.graph.nodes if n.op == "call_function")
        return counter(gm, example_inputs)

    torch._dynamo.reset()
    torch.compile(loss, backend=record, fullgraph=True)(x)
    assert any("actgrad" in op for op in ops), ops


def test_torch_without_autograd_skips_the_operator_and_gives_numpys_bits():
    torch = pytest.importorskip("torch")
    x = np.linspace(-40, 40, 1001)
    for name in ("gelu", "gelu_grad", "mish_grad2", "silu_backward"):
        f = getattr(ag, name)
        arrays = (np.full_like(x, 1.5), x) if name.endswith("backward") else (x,)
        got = f(*(torch.from_numpy(a) for a in arrays))
        assert isinstance(got, torch.Tensor)
        np.testing.assert_array_equal(got.numpy().view(np.uint64), f(*arrays).view(np.uint64))
