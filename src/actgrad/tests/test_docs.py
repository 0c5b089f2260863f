"""Every public function's docstring runs as a doctest and states its math.

pytest's doctest collector skips ufunc objects, so the examples are run here
with doctest's own parser and runner.
"""

import doctest

import numpy as np
import pytest

import actgrad as ag

from actgrad._table import ACTIVATIONS, FORMS

from .conftest import CASE_FORM_PARAMS, PUBLIC_NAMES

ACTS = {act.name: act for act in ACTIVATIONS}


def _run_doctest(obj, name):
    test = doctest.DocTestParser().get_doctest(obj.__doc__, {}, name, None, 0)
    assert test.examples, f"{name} has no examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    return len(test.examples)


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_docstring_examples_run(name):
    assert _run_doctest(getattr(ag, name), name) >= 2


def test_module_docstring_examples_run():
    _run_doctest(ag, "actgrad")


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_docstring_states_formula_derivatives_and_conventions(case, form):
    act = case.act
    doc = case.function(form).__doc__
    assert doc, act.function_name(form)
    lines = [line.strip() for line in doc.splitlines()]
    # The formula, f' and f'' spelled out, one per line...
    assert f"f(x)   = {act.formula}" in lines
    assert f"f'(x)  = {act.derivative}" in lines
    assert f"f''(x) = {act.second_derivative}" in lines
    # ...and a sentence on the conventions at kinks and for NaN.
    assert "Conventions: " + act.kinks.split(".")[0] in doc
    assert "NaN in `x` gives NaN" in doc
    # every parameter documented
    for p in act.params:
        assert f"{p.name} : " in doc
    if form.kind == "backward":
        assert "even for an inf or NaN `grad_output`" in doc


# docs/contract.rst, section "Kinks", as the phrase each docstring must contain.
CONVENTION_PHRASES = {
    "relu": ["f'(0) = 0"],
    "relu6": ["f'(0) = f'(6) = 0"],
    "leaky_relu": ["f'(0) = negative_slope"],
    "hardtanh": ["f'(min_val) = f'(max_val) = 0"],
    "threshold": ["f'(threshold) = 0"],
    "hardshrink": ["f'(-lambd) = f'(lambd) = 0"],
    "softshrink": ["f'(-lambd) = f'(lambd) = 0"],
    # the smooth entries: docs/contract.rst "Kinks" and the docstrings' own conventions
    "sigmoid": ["none (smooth everywhere)"],
    "logsigmoid": ["none (smooth everywhere)"],
    "tanh": ["none (smooth everywhere)", "tanh(-0.0) = -0.0"],
    "silu": ["none (smooth everywhere)"],
    "elu": ["f'(0) = alpha, the left branch", "f''(0) = alpha"],
    "selu": ["f'(0) = scale * alpha", "f''(0) = scale * alpha"],
    "celu": ["f'(0) = 1 from either side", "f''(0) = 1/alpha"],
    "hardsigmoid": ["f'(-3) = f'(3) = 0"],
    "hardswish": ["f'(-3) = 0 and f'(3) = 1"],
    "softsign": ["f'' jumps from 2 to -2 at 0, where it is 0"],
    "tanhshrink": ["none (smooth everywhere)", "f = x**3/3"],
    "gelu": ["none (smooth everywhere)", "approximate='none' (the default) is exact"],
    "mish": ["none (smooth everywhere)"],
    "softplus": ["threshold=None (the default)", "bit for bit as in PyTorch"],
    "squareplus": ["none (smooth everywhere)", "no cancellation for x < 0"],
    "sparse_plus": ["f''(-1) = f''(1) = 0"],
    "sparse_sigmoid": ["f'(-1) = f'(1) = 0"],
}


@pytest.mark.parametrize("case, form", CASE_FORM_PARAMS)
def test_docstring_states_the_spec_convention_at_kinks(case, form):
    assert case.name in CONVENTION_PHRASES, f"add the convention phrase for {case.name}"
    doc = case.function(form).__doc__
    for phrase in CONVENTION_PHRASES[case.name]:
        assert phrase in doc, (phrase, doc)


def test_ufunc_docstrings_start_with_numpy_signature():
    # NumPy prepends the ufunc signature; the description follows.
    assert ag.ufuncs.relu.__doc__.startswith("relu(x, /, out=None")
    assert isinstance(ag.ufuncs.relu, np.ufunc)
    assert ag.relu.__doc__ == ACTS["relu"].docstring(FORMS[0])


# --- the README (found in the source tree; skipped for an installed package) --

def _readme():
    from pathlib import Path

    for root in (Path(__file__).resolve().parents[3], Path.cwd()):
        path = root / "README.md"
        if path.is_file() and "actgrad" in path.read_text(encoding="utf-8")[:200]:
            return path.read_text(encoding="utf-8")
    pytest.skip("README.md not found beside the package")


def test_readme_examples_run():
    import re

    blocks = re.findall(r"```python\n(.*?)```", _readme(), re.S)
    doctests = [b for b in blocks if b.lstrip().startswith(">>>")]
    assert doctests, "the README has no doctest-style example"
    for i, block in enumerate(doctests):
        test = doctest.DocTestParser().get_doctest(block, {}, f"README[{i}]", "README.md", 0)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        report = []
        runner.run(test, out=report.append)
        assert runner.failures == 0, "".join(report)


def test_readme_lists_every_activation():
    import re

    from actgrad._table import AXIS_ACTIVATIONS

    block = re.search(r"<!-- names:begin.*?-->(.*?)<!-- names:end -->", _readme(), re.S)
    assert block, "README.md lost its names markers (python tools/docs_tables.py names)"
    listed = set(re.findall(r"`(\w+)[(`]", block.group(1)))
    expected = {a.name for a in ACTIVATIONS} | {a.name for a in AXIS_ACTIVATIONS}
    assert listed == expected, "run python tools/docs_tables.py names"
