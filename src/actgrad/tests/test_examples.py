"""The tutorial, examples/train_mlp.py, trains: one epoch, above chance.

The example is not part of the installed package: the test finds it in the
source tree (beside this package in a checkout, or under the current
directory, where CI runs; ``ACTGRAD_EXAMPLES`` names the folder otherwise) and
skips where there is none, or where scikit-learn or tqdm is missing.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("tqdm")


def _example() -> Path:
    folders = [os.environ.get("ACTGRAD_EXAMPLES"), Path(__file__).resolve().parents[3] / "examples",
               Path.cwd() / "examples"]
    for folder in folders:
        if folder and (Path(folder) / "train_mlp.py").is_file():
            return Path(folder) / "train_mlp.py"
    pytest.skip("examples/train_mlp.py not found (set ACTGRAD_EXAMPLES to its folder)")


def _train(*args) -> dict:
    out = subprocess.run([sys.executable, str(_example()), "--epochs", "1", "--no-progress", *args],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    results = {}
    for m in re.finditer(r"^\s*(.+?): test accuracy\s+([\d.]+) %.*final training loss ([\d.]+)$",
                         out.stdout, re.M):
        results[m.group(1)] = (float(m.group(2)) / 100, float(m.group(3)))
    assert len(results) == 2, out.stdout
    return results


def test_one_epoch_of_relu_trains_and_matches_the_common_answer():
    results = _train()
    (acc, loss), (common_acc, common_loss) = results["actgrad relu"], results[
        "common answer: (x > 0) * 1"]
    # ten classes: chance is 10 %
    assert acc > 0.5 and common_acc > 0.5, results
    # the same weights and batches, and the same derivative on finite inputs:
    # the common answer, written without actgrad, gives the same loss
    assert loss == common_loss and acc == common_acc, results


def test_one_epoch_with_another_activation_trains(tmp_path):
    args = ["--activation", "gelu"]
    try:
        import matplotlib  # noqa: F401

        args += ["--plot", str(tmp_path / "loss.png")]
    except ImportError:
        pass
    results = _train(*args)
    assert results["actgrad gelu"][0] > 0.5, results
    if "--plot" in args:
        assert (tmp_path / "loss.png").stat().st_size > 0
