"""``actgrad bench`` runs end to end and prints every row it promises.

Timings are never asserted: the machine's load decides them.  These tests
check that the command runs, exits 0 and prints each case of its sections,
the calling-overhead rows and the targets.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from actgrad.commands import bench as _bench

def bench(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "actgrad", "bench", "--quick", "--no-progress", *args],
        capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess:
    return bench("--sizes", "10", "200", "--dtypes", "float32", "float64")


def test_quick_bench_exits_0(quick_run):
    assert quick_run.returncode == 0, quick_run.stderr
    assert "Traceback" not in quick_run.stderr


def test_quick_bench_prints_a_table_per_dtype_and_size(quick_run):
    for dtype in ("float32", "float64"):
        for size in ("10 elements", "200 elements"):  # 10^3 and up print as 10^k
            assert f"{dtype}, {size}" in quick_run.stdout


@pytest.mark.parametrize("case", [c for s in _bench.relu_sections() for c in s.rows],
                         ids=lambda c: c.title)
def test_quick_bench_prints_every_case(quick_run, case):
    module = _bench.OPTIONAL[case.needs][0] if case.needs else None
    available = module is None or importlib.util.find_spec(module) is not None
    if available:
        # One row per dtype and size, each with its result dtype and a time.
        tables = quick_run.stdout.split("Calling overhead")[0]
        lines = [line for line in tables.splitlines() if line.startswith(case.title + " ")]
        assert len(lines) == 4, quick_run.stdout
        assert all("skipped" not in line for line in lines)
    else:
        assert f"{case.needs}: not installed" in quick_run.stdout


def test_quick_bench_marks_floors_and_the_fastest_row(quick_run):
    notes = [line.rsplit("  ", 1)[-1] for line in quick_run.stdout.splitlines()]
    # 2 sections x 2 dtypes x 2 sizes
    assert notes.count("floor") == 8
    assert notes.count("allocating floor") == 8
    assert sum(note.startswith("<- fastest") for note in notes) == 8


def test_quick_bench_prints_overhead_and_targets(quick_run):
    out = quick_run.stdout
    for case in _bench.OVERHEAD_CASES:
        assert any(line.startswith(case.code + " ") for line in out.splitlines())
    assert "Targets" in out
    # 10^7 float32 was not run: the size targets say so instead of a verdict.
    assert out.count("not measured") == len(_bench.TARGETS)
    assert "elements: ag.relu_grad(x)" in out
    assert ("PASS" in out) or ("MISS" in out)


def test_markdown_tables():
    r = bench("--sizes", "10", "--dtypes", "float64", "--markdown")
    assert r.returncode == 0, r.stderr
    assert "| ReLU derivative | result | median | vs floor | extra/call |  |" in r.stdout
    assert "| --- | ---: | ---: | ---: | ---: | --- |" in r.stdout
    assert "| `ag.relu_grad(x, out=out)` | float64 |" in r.stdout


def test_progress_goes_to_stderr():
    r = subprocess.run(
        [sys.executable, "-m", "actgrad", "bench", "--quick", "--sizes", "10",
         "--dtypes", "float64"],
        capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "float64 10 ReLU derivative" in r.stderr
    assert "done in" in r.stderr
    assert "done in" not in r.stdout


@pytest.mark.parametrize("args", [("--sizes", "ten"), ("--sizes", "0"),
                                  ("--dtypes", "int32"), ("--dtypes", "nonsense"),
                                  ("--repeats", "0")])
def test_bad_arguments_exit_2(args):
    r = bench(*args, timeout=60)
    assert r.returncode == 2
    assert "actgrad bench:" in r.stderr


@pytest.mark.parametrize("text, value", [("1000", 1000), ("1e7", 10**7), ("10^7", 10**7),
                                         ("10**8", 10**8), ("1_000", 1000)])
def test_parse_size(text, value):
    assert _bench.parse_size(text) == value


def test_no_subcommand_is_an_error():
    r = subprocess.run([sys.executable, "-m", "actgrad"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    assert "bench" in r.stderr


def test_catalogue_mode_times_the_smooth_activations():
    # A subprocess: catalogue mode pins its process to one core.
    r = bench("--catalogue", "--sizes", "1000", "--dtypes", "float64",
              "--functions", "sigmoid", "gelu", "--no-peers")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()[1:]]
    assert [(row[0], row[1], row[2]) for row in rows] == [
        ("sigmoid", "f", "float64"), ("sigmoid", "grad", "float64"),
        ("gelu", "f", "float64"), ("gelu", "grad", "float64")]
    for row in rows:
        float(row[4])  # actgrad's ratio to np.copyto is a number


def test_catalogue_mode_times_the_axis_functions():
    r = bench("--catalogue", "--sizes", "2000", "--dtypes", "float32",
              "--functions", "softmax", "glu", "--no-peers")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()[1:]]
    assert [(row[0], row[1]) for row in rows] == [
        ("softmax", "f"), ("softmax", "bwd"), ("glu", "f"), ("glu", "bwd")]
    for row in rows:
        float(row[4])
        float(row[5])  # and the NumPy idiom's
