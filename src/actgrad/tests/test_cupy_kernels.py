"""The CuPy kernels: built from the C++ headers of the ufuncs.

On a machine with CuPy and a GPU the xp-fixture tests (backend ``cupy``)
compare every function with NumPy.  Everywhere, the CUDA source that actgrad
hands to ``cupy.ElementwiseKernel`` is compiled here with the host C++
compiler, with a stand-in for CuPy's float16 and a loop in place of CuPy's
kernel template, so a header change that would break the GPU build fails on
any machine.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import pytest

from actgrad.backends import cupy_kernels as _cupy
from actgrad._table import ACTIVATIONS, FORMS

# What CuPy puts around an ElementwiseKernel, reduced to plain C++.
_PRELUDE = """\
#include <cmath>
#include <cstring>
#include <limits>
struct float16 {
    float v;
    float16() : v(0) {}
    float16(float f) : v(f) {}
    operator float() const { return v; }
};
"""


def _host_translation_units() -> dict:
    """header -> one C++ translation unit, as CuPy compiles each kernel alone
    (its preamble is not wrapped in any namespace: the headers' macros name
    ``::actgrad``)."""
    units: dict = {}
    # every ufunc's kernel: the variants of gelu and softplus included
    kernels = [dataclasses.replace(act, kernel=v.kernel) if act.variants else act
               for act in ACTIVATIONS for v in act.ufunc_variants()]
    for act in kernels:
        parts = units.get(act.header)
        if parts is None:
            parts = units[act.header] = [_PRELUDE, _cupy.preamble(act.header) + "\n"]
        for form in FORMS:
            in_params, out_params, op, name, _ = _cupy.cuda_source(act, form)
            assert out_params == "T y"
            args, loads = [], []
            for param in in_params.split(", "):
                typ, var = param.split()
                if typ == "T":
                    args.append(f"const T *{var}_in")
                    loads.append(f"const T {var} = {var}_in[k];")
                else:
                    assert typ == "float64"
                    args.append(f"double {var}")
            types = ["float", "double", "float16"]
            if act.keeps_integers and form.kind == "f":
                types += ["int", "signed char", "long long", "unsigned char"]
            for t in types:
                # CuPy names the type with a typedef in a plain (non-template) kernel.
                parts.append(
                    f"void {name}_{t.replace(' ', '_')}("
                    f"{', '.join(a.replace('T ', t + ' ') for a in args)}, {t} *y_out, long n) {{\n"
                    f"    typedef {t} T;\n"
                    f"    for (long k = 0; k < n; ++k) {{\n        {' '.join(loads)}\n"
                    f"        T y;\n        {op}\n        y_out[k] = y;\n    }}\n}}\n"
                )
    return {header: "".join(parts) for header, parts in units.items()}


def test_cuda_sources_compile_with_the_host_compiler(tmp_path):
    compiler = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if compiler is None:
        pytest.skip("no C++ compiler")
    # C++17, as NVRTC compiles them (_cupy.COMPILE_OPTIONS): the headers use
    # inline variables, if constexpr and nested namespace definitions.
    for header, unit in _host_translation_units().items():
        source = tmp_path / (header.replace(".hpp", "") + "_cupy.cpp")
        source.write_text(unit)
        result = subprocess.run(
            [compiler, "-std=c++17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", str(source)],
            capture_output=True, text=True,
        )
        assert result.returncode == 0, f"{header}:\n" + result.stderr[-4000:]


def test_headers_use_only_std_names_the_gpu_has():
    """NVRTC has no C++ standard library: the CuPy preamble supplies the std::
    names in _cupy.STD_NAMES (CUDA's math functions, fixed-width integers,
    is_same), and nothing else."""
    import re

    # Only what CuPy compiles: the preambles of the elementwise entries (the
    # gufuncs along an axis run on the CPU only).
    for header in sorted({act.header for act in ACTIVATIONS}):
        used = set(re.findall(r"\bstd::(\w+)", _cupy.preamble(header)))
        assert used <= _cupy.STD_NAMES, (
            f"{header} uses std::{sorted(used - _cupy.STD_NAMES)}, which NVRTC lacks; "
            "add it to actgrad/backends/cupy_kernels.py's shim")


def test_preamble_inlines_every_local_header_once():
    for act in ACTIVATIONS:
        text = _cupy.preamble(act.header)
        assert '#include "' not in text and "#pragma once" not in text
        assert text.count("enum class FormKind") == 1
        assert "actgrad_compute<float16>" in text


def test_kernels_on_the_gpu():
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as exc:
        pytest.skip(f"no CUDA device: {exc}")
    import numpy as np

    import actgrad as ag

    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0, 7.0, np.inf, -np.inf, np.nan])
    for dtype in ("float16", "float32", "float64"):
        xs = x.astype(dtype)
        y = ag.leaky_relu_backward(cupy.ones_like(cupy.asarray(xs)), cupy.asarray(xs),
                                   negative_slope=0.2)
        assert isinstance(y, cupy.ndarray) and y.dtype == xs.dtype
        np.testing.assert_array_equal(
            y.get(), ag.leaky_relu_backward(np.ones_like(xs), xs, negative_slope=0.2))
