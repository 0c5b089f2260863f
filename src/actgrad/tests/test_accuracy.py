"""Every smooth function, derivative and second derivative against mpmath.

The reference values (tests/data/references.npz) were computed by
tools/generate_references.py from tools/mpmath_reference.py at 50 digits,
never by actgrad: for each dtype, a seeded sample of its whole finite range
(uniform near 0, log-spaced out to the overflow edge, the exp tails,
subnormals, kinks).  float32 and float64 results must be within the table's
tolerance_ulp of the true value, float16 within 1 ulp.
"""

import numpy as np
import pytest

from actgrad.commands.accuracy import FORMS, actgrad_function, load_references, ulp_error
from actgrad._table import ACTIVATIONS, REFERENCE_CASES

REFS = load_references()
TOLERANCE = {}
for _act in ACTIVATIONS:
    for _v in _act.ufunc_variants():
        TOLERANCE[_act.name + _v.suffix] = _act.tolerance_ulp
SMOOTH = [a for a in ACTIVATIONS if a.tolerance_ulp > 0]


def test_every_smooth_activation_has_reference_values():
    covered = {c.ufunc for c in REFERENCE_CASES if c.name in REFS}
    for act in SMOOTH:
        for v in act.ufunc_variants():
            assert act.name + v.suffix in covered, act.name + v.suffix


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", [c for c in REFERENCE_CASES if c.name in REFS],
                         ids=lambda c: c.name)
def test_accuracy(case, form, dtype):
    entry = REFS[case.name][dtype]
    x = entry["x"]
    assert x.dtype == np.dtype(dtype)
    with np.errstate(all="raise"):
        got = actgrad_function(case.name, form)(x)
    assert got.dtype == x.dtype
    hi, lo = entry[form]
    err = ulp_error(got, hi, lo, x.dtype)
    bound = 1.0 if dtype == "float16" else TOLERANCE[case.ufunc]
    bad = np.flatnonzero(~(err <= bound))
    assert bad.size == 0, "\n".join(
        f"x={x[i]!r}: got {got[i]!r}, want {hi[i]!r} (+{lo[i]:.3g}), {err[i]:.2f} ulp"
        for i in bad[:20])


def test_accuracy_command_prints_the_table(capsys):
    from actgrad.__main__ import main

    assert main(["accuracy", "--no-peers"]) == 0
    out = capsys.readouterr().out
    assert "actgrad 64" in out and "gelu_tanh" in out
    for line in out.splitlines()[2:]:
        cells = line.split()
        assert len(cells) == 5 and all(float(c) <= 4 for c in cells[2:]), line
