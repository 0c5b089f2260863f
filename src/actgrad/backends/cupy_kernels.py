"""CuPy elementwise kernels compiled from the C++ headers of the ufuncs.

The preamble of every kernel is ``common.hpp``, ``forms.hpp`` and the
activation's header, as shipped in ``actgrad/kernels`` (``src/kernels`` in a
source tree), so a CuPy array gets the very selects and formulas of the CPU
loops.  The headers carry no CUDA annotations: NVRTC is told to treat
unannotated functions as device functions
(``--device-as-default-execution-space``).  float16 is computed in float32, as
on the CPU; parameters arrive as float64 and are rounded once to the compute
dtype.

``cuda_source`` is plain string work, testable without CuPy (the test suite
compiles it with the host C++ compiler); ``elementwise_kernel`` needs CuPy.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

#: NVRTC has no C++ standard library: each std:: name the headers use is
#: supplied here, the math functions from CUDA's math library (which defines
#: them globally for float and double), the rest written out.
_STD_MATH = frozenset(
    "abs fabs exp exp2 expm1 log log1p log2 log10 pow sqrt cbrt tanh sinh cosh tan sin cos "
    "atan erf erfc fmin fmax fma floor ceil trunc round copysign ldexp frexp nextafter "
    "isnan isinf isfinite signbit memcpy".split()
)
_STD_OTHER = {
    **{f"{u}int{n}_t": f"typedef {'unsigned ' if u else 'signed '}{c} {u}int{n}_t;"
       for u in ("", "u") for n, c in ((8, "char"), (16, "short"), (32, "int"), (64, "long long"))},
    "size_t": "typedef decltype(sizeof(0)) size_t;",
    # Only under NVRTC: a host compiler (the tests) has them from <type_traits>.
    "is_same": "#ifdef __CUDACC_RTC__\n"
               "template <class A, class B> struct is_same { static constexpr bool value = false; };\n"
               "template <class A> struct is_same<A, A> { static constexpr bool value = true; };\n"
               "#endif",
    # the members the kernels use, for float and double (CUDA's bit casts)
    "numeric_limits": "#ifdef __CUDACC_RTC__\n"
                      "template <class T> struct numeric_limits;\n"
                      "template <> struct numeric_limits<float> {\n"
                      "  static constexpr int digits = 24, min_exponent = -125;\n"
                      "  static __device__ float max() { return __int_as_float(0x7f7fffff); }\n"
                      "  static __device__ float infinity() { return __int_as_float(0x7f800000); }\n"
                      "  static __device__ float denorm_min() { return __int_as_float(1); }\n"
                      "};\n"
                      "template <> struct numeric_limits<double> {\n"
                      "  static constexpr int digits = 53, min_exponent = -1021;\n"
                      "  static __device__ double max() { return __longlong_as_double(0x7fefffffffffffffLL); }\n"
                      "  static __device__ double infinity() { return __longlong_as_double(0x7ff0000000000000LL); }\n"
                      "  static __device__ double denorm_min() { return __longlong_as_double(1LL); }\n"
                      "};\n"
                      "#endif",
    "is_same_v": "#ifdef __CUDACC_RTC__\n"
                 "template <class A, class B> constexpr bool is_same_v = is_same<A, B>::value;\n"
                 "#endif",
}
STD_NAMES = _STD_MATH | set(_STD_OTHER)


def _std_shim(used: set) -> str:
    if "is_same_v" in used:
        used = used | {"is_same"}
    lines = [f"using ::{n};" for n in sorted(used & _STD_MATH)]
    lines += [_STD_OTHER[n] for n in _STD_OTHER if n in used]  # dependency order
    return "namespace std {\n" + "\n".join(lines) + "\n}\n" if lines else ""


_LOCAL_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"\s*$', re.M)
_SYSTEM_INCLUDE = re.compile(r"^\s*#\s*include\s*<[^>]+>\s*$", re.M)
_PRAGMA_ONCE = re.compile(r"^\s*#\s*pragma\s+once\s*$", re.M)

#: unannotated header functions are device functions; no implicit a*b+c -> fma
#: (the CPU build has none either: a result must not depend on the device).
#: The headers are C++17 (inline variables, if constexpr, nested namespaces).
COMPILE_OPTIONS = ("--device-as-default-execution-space", "--fmad=false", "--std=c++17")


def kernel_dir() -> Path:
    """Where the C++ kernel headers are: installed beside the package, or in
    the source tree (editable installs)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "kernels", here.parent.parent / "kernels"):
        if (candidate / "forms.hpp").is_file():
            return candidate
    raise FileNotFoundError(f"actgrad's C++ kernel headers are not installed beside {here}")


def _header_text(name: str, seen: set, directory: Path) -> str:
    """A header with its local includes inlined once, system includes dropped."""
    if name in seen:
        return ""
    seen.add(name)
    text = (directory / name).read_text()
    text = _PRAGMA_ONCE.sub("", text)
    text = _SYSTEM_INCLUDE.sub("", text)
    return _LOCAL_INCLUDE.sub(lambda m: _header_text(m.group(1), seen, directory), text)


@functools.lru_cache(maxsize=None)
def preamble(header: str) -> str:
    directory = kernel_dir()
    seen: set = set()
    body = "".join(_header_text(h, seen, directory) for h in ("common.hpp", "forms.hpp", header))
    shim = _std_shim(set(re.findall(r"\bstd::(\w+)", body)))
    return (
        "// actgrad kernels for CuPy, generated from the C++ headers.\n"
        "template <class T> struct actgrad_compute { typedef T type; };\n"
        "template <> struct actgrad_compute<float16> { typedef float type; };\n"
        + shim + body
    )


def n_params(act) -> int:
    """How many numeric parameters the kernel takes: those of the variant
    whose kernel `act` names (the selector itself is no kernel parameter)."""
    for variant in act.variants:
        if variant.kernel == act.kernel_struct:
            return len(variant.params)
    return len(act.params)


def kernel_name(act, form) -> str:
    """Unique per kernel struct and form (variants share the activation's name)."""
    return f"actgrad_{act.kernel_struct}{form.suffix}"


def operation(act, form) -> str:
    arrays = ["g", "x"] if form.kind == "backward" else ["x"]
    args = [f"(C){a}" for a in arrays] + [f"(C)p{i}" for i in range(n_params(act))]
    return (
        "typedef typename actgrad_compute<T>::type C;\n"
        f"y = (T)(actgrad::Form<actgrad::kernels::{act.kernel_struct}, "
        f"actgrad::FormKind::{form.kind}>::call({', '.join(args)}));"
    )


def cuda_source(act, form):
    """(in_params, out_params, operation, name, preamble) of the ElementwiseKernel."""
    arrays = ["g", "x"] if form.kind == "backward" else ["x"]
    in_params = ", ".join([f"T {a}" for a in arrays] + [f"float64 p{i}" for i in range(n_params(act))])
    return (in_params, "T y", operation(act, form), kernel_name(act, form),
            preamble(act.header))


_KERNELS: dict = {}


def elementwise_kernel(act, form):
    """The cupy.ElementwiseKernel of one function (built once; CuPy compiles
    it per dtype on first use and caches the binary on disk)."""
    name = kernel_name(act, form)
    kernel = _KERNELS.get(name)
    if kernel is None:
        import cupy

        in_params, out_params, op, kname, pre = cuda_source(act, form)
        kernel = _KERNELS[name] = cupy.ElementwiseKernel(
            in_params, out_params, op, kname, preamble=pre, options=COMPILE_OPTIONS)
    return kernel
