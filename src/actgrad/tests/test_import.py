"""``import actgrad`` pulls in no optional array library."""

import subprocess
import sys

import pytest

OPTIONAL = ("torch", "jax", "jaxlib", "cupy", "tensorflow", "dask", "xarray", "numexpr",
            "array_api_compat", "mpmath", "hypothesis", "pytest")


def _modules_after(statement):
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())


@pytest.mark.parametrize("statement", ["import actgrad",
                                       "import actgrad; actgrad.relu_grad([1.0, -1.0])",
                                       "from actgrad import ufuncs"])
def test_import_pulls_in_no_optional_backend(statement):
    loaded = _modules_after(statement)
    assert "actgrad" in loaded and "numpy" in loaded
    bad = sorted(m for m in loaded if m.split(".")[0] in OPTIONAL)
    assert not bad, bad


def test_table_is_importable_without_numpy_or_the_extension():
    # The build reads the table before the extension exists.
    import actgrad._table as table

    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('t', {table.__file__!r})\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['t'] = m\n"
        "spec.loader.exec_module(m)\n"
        "assert m.ACTIVATIONS and m.FORMS\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    loaded = set(r.stdout.split())
    assert "numpy" not in loaded and "actgrad._ufuncs" not in loaded
