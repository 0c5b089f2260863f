"""The dense accuracy sweep (actgrad.commands.sweep) and its reference (actgrad.commands.sweep_reference).

* The reference agrees with the mpmath oracle (written independently) within
  the error bound it reports, and its arb balls within 1/1000 ulp.
* The sweep finds an error planted in actgrad's output.
* A fast subset (float32 every 2^14-th bit pattern, float64 20,000 points per
  function and form plus the roots, tails and known points, every float16)
  holds every function to 4 ulp (float32, float64) and 1 ulp (float16).
* The full sweep (`actgrad accuracy --sweep` at its defaults; minutes) is
  marked slow: `pytest --pyargs actgrad -m slow -k sweep`.

Known failures (issue 8: float64 gelu tanh form f', f'') are xfail(strict=False).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("flint")
mp = pytest.importorskip("mpmath")

from actgrad.commands import sweep as _sweep  # noqa: E402
from actgrad.commands import sweep_reference as ref  # noqa: E402
from actgrad.commands.accuracy import FORMS  # noqa: E402
from actgrad.commands.mpmath_reference import CASES  # noqa: E402
from actgrad._table import REFERENCE_CASES  # noqa: E402

GROUPS = [(c.name, f, d) for d in _sweep.DTYPES for c in REFERENCE_CASES for f in FORMS]

#: over the bound (float64 gelu tanh form: f'' 4.31 ulp at x = -3.5408116 on the
#: full sweep, f' 4.30 at -1.7549548 on a targeted one; issue 8 stays open)
FAST_KNOWN = {("gelu_tanh", "grad", "float64"), ("gelu_tanh", "grad2", "float64")}
FULL_KNOWN = FAST_KNOWN


def _params(groups, known):
    return [pytest.param(*g, marks=pytest.mark.xfail(strict=False, reason="issue 8"))
            if g in known else g for g in groups]


def test_every_reference_case_has_sweep_formulas():
    for c in REFERENCE_CASES:
        assert c.ufunc in ref.FORMULAS, c.ufunc
        assert c.name in CASES, c.name


def _oracle(case, form, x, dtype):
    t = CASES[case.name]["forms"][FORMS.index(form)](mp.mpf(float(x)), dtype=dtype)
    return t


@pytest.mark.parametrize("target", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", REFERENCE_CASES, ids=lambda c: c.name)
def test_reference_agrees_with_mpmath_within_its_bound(case, target):
    if target == np.float64 and not ref.longdouble_is_wide():
        pytest.skip("float64 reference needs x87 long double")
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(-12, 12, 12),
                        np.exp(rng.uniform(-30, 7, 8)) * rng.choice([-1, 1], 8),
                        [-38.2, -700.0, -1500.0, 1e-200, 0.0, -1.2784645, 2.3993573]])
    x = x.astype(target)
    for form in FORMS:
        v, e = ref.numpy_reference(case.ufunc, form, case.params, x, target)
        ulp = ref.target_ulp(v.astype(np.float64), target)
        for i, xi in enumerate(x):
            t = _oracle(case, form, xi, target)
            diff = abs(mp.mpf(v[i].astype(np.float64)) + mp.mpf((v[i] - v[i].astype(np.float64))
                                                               .astype(np.float64)) - t)
            # the tracked bound holds (with 1e-3 ulp of slack for the double-double split)
            assert float(diff) <= float(e[i]) + 1e-3 * ulp[i], (case.name, form, xi, diff, e[i])
        for xi in x[::3]:
            hi, lo = ref.arb_reference(case.ufunc, form, case.params, float(xi), target)
            t = _oracle(case, form, xi, target)
            assert abs(float(mp.mpf(hi) + mp.mpf(lo) - t)) <= 2e-3 * ref.scalar_ulp(hi, target), \
                (case.name, form, xi)


def test_sweep_finds_a_planted_error(monkeypatch):
    """Six ulps added to actgrad's sigmoid' at one float32 input are found there."""
    bad = np.float32(-1.25)
    real = _sweep.actgrad_function

    def planted(case, form):
        func = real(case, form)

        def g(x):
            y = func(x)
            hit = x == bad
            if hit.any():
                y = y.copy()
                y[hit] = y[hit] + 6 * np.spacing(y[hit])
            return y
        return g

    monkeypatch.setattr(_sweep, "actgrad_function", planted)
    monkeypatch.setitem(_sweep.KNOWN_POINTS, ("sigmoid", "grad", "float32"), (float(bad),))
    (r,) = _sweep.sweep(dtypes=("float32",), cases=["sigmoid"], forms=("grad",),
                        stride=1 << 16, points=0)
    assert r["x"] == float(bad) and 5.4 <= r["max_ulp"] <= 6.6, r
    assert r["over_bound"] == 1 and abs(r["mpmath_ulp"] - r["max_ulp"]) < 0.01


def test_known_points_and_roots_are_swept():
    case = next(c for c in REFERENCE_CASES if c.name == "silu")
    roots = _sweep.find_roots(case, "grad")
    assert np.any(np.abs(roots + 1.2784645427610737) < 1e-12), roots
    x = _sweep.extra_points(case, "grad", "float32", 0, 1)
    assert np.float32(-0.8412367) in x
    assert np.float32(-1.2784645427610737) in x
    x = _sweep.extra_points(case, "grad2", "float64", 20000, 1)
    assert np.float64(2.8799461) in x and np.float64(2.3993572805154675) in x


@pytest.fixture(scope="module")
def fast_results():
    results = _sweep.sweep(stride=1 << 14, points=20000)
    return {(r["case"], r["form"], r["dtype"]): r for r in results}


@pytest.mark.parametrize("case,form,dtype", _params(GROUPS, FAST_KNOWN))
def test_fast_sweep_bound(fast_results, case, form, dtype):
    r = fast_results[case, form, dtype]
    assert r["points"] >= {"float16": 63488, "float32": 260000, "float64": 20000}[dtype]
    # the worst point's error: arb and mpmath (60 digits) agree
    assert abs(r["mpmath_ulp"] - r["max_ulp"]) <= 0.01, r
    assert r["max_ulp"] <= r["bound"], (
        f"{case} {form} {dtype}: {r['max_ulp']:.2f} ulp at x={r['x']!r}; "
        f"{r['over_bound']} points over: {r['over_points'][:5]}")


def test_sweep_command(tmp_path, capsys):
    from actgrad.__main__ import main

    path = tmp_path / "sweep.json"
    status = main(["accuracy", "--sweep", "--stride", "65536", "--points", "2000",
                   "--dtypes", "float16", "float32", "--cases", "sigmoid", "--markdown",
                   "--json", str(path)])
    assert status == 0
    out = capsys.readouterr().out
    assert "| sigmoid | grad2 |" in out and "float32 ulp" in out
    data = json.loads(path.read_text())
    assert data["parameters"]["stride"] == 65536
    assert {(r["form"], r["dtype"]) for r in data["results"]} == {
        (f, d) for f in FORMS for d in ("float16", "float32")}


@pytest.fixture(scope="module")
def full_results(request):
    # deselected by pyproject's addopts; where that config is not read (pytest
    # run from another directory), skipped unless asked for with -m slow
    if "slow" not in (request.config.getoption("markexpr") or "") or \
            "not slow" in request.config.getoption("markexpr"):
        pytest.skip("the full sweep takes minutes: run it with -m slow")
    results = _sweep.sweep()
    return {(r["case"], r["form"], r["dtype"]): r for r in results}


@pytest.mark.slow
@pytest.mark.parametrize("case,form,dtype", _params(GROUPS, FULL_KNOWN))
def test_full_sweep_bound(full_results, case, form, dtype):
    r = full_results[case, form, dtype]
    assert abs(r["mpmath_ulp"] - r["max_ulp"]) <= 0.01, r
    assert r["max_ulp"] <= r["bound"], (
        f"{case} {form} {dtype}: {r['max_ulp']:.2f} ulp at x={r['x']!r}; "
        f"{r['over_bound']} points over: {r['over_points'][:5]}")
