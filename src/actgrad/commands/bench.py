"""``actgrad bench``: actgrad against the floor of the memory bus and its peers.

Every benchmark row is data: a :class:`Case` holds the exact statement that is
timed (and shown), its role and the optional library it needs.  A
:class:`Section` groups the rows that do the same job with the floor they are
compared to, and a list of sections is run for every dtype and size.  The
ReLU sections below answer the founding question; a catalogue of every
activation is one more function that returns sections.

Measurements use ``time.perf_counter`` through :mod:`timeit` (garbage
collection off while timing).  The rows of a section are timed round-robin,
the floor among them, so that a drift in machine load affects the floor and
the rows alike; each row's time is the median of its samples.  Bytes
allocated per call are measured with :mod:`tracemalloc` on a separate call
(NumPy reports its data buffers to tracemalloc; PyTorch does not).
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import math
import os
import platform
import statistics
import sys
import time
import timeit
import tracemalloc
from dataclasses import dataclass, field

import numpy as np

# Roles of a row.
FLOOR = "floor"              # the reference every ratio is taken to
ALLOC_FLOOR = "alloc floor"  # the same copy into a fresh array: NumPy's allocation cost
ACTGRAD = "actgrad"
IDIOM = "numpy idiom"
PEER = "peer"

DESCRIPTION = (
    "Time actgrad's ReLU derivative and backward pass against the floor of the memory "
    "bus (np.copyto, np.add), the usual NumPy answers, numexpr and PyTorch (one thread), "
    "for float32 and float64 arrays of 10^3 to 10^8 elements. Progress goes to stderr, "
    "the tables to stdout.")

DEFAULT_SIZES = (10**3, 10**5, 10**7, 10**8)
QUICK_SIZES = (10**3, 10**5)
DEFAULT_DTYPES = ("float32", "float64")
OVERHEAD_SIZE = 10

#: Optional peers: module key -> (import name, pip requirement)
OPTIONAL = {"numexpr": ("numexpr", "numexpr"), "torch": ("torch", "torch==2.13.0")}


@dataclass(frozen=True)
class Case:
    """One row: a statement timed in a namespace of arrays.

    The namespace holds ``x`` and ``g`` (the input and the incoming gradient,
    standard normal, so signs are random), ``out`` (an output of x's dtype),
    ``out_bool``, the modules ``np``, ``ag``, ``ne``, ``torch``, and ``xt``,
    ``gt``, ``outt``: torch views of x, g and out.
    """

    code: str
    role: str = IDIOM
    #: the optional module it needs (a key of OPTIONAL)
    needs: str | None = None
    #: for a multi-statement case, the name its result is bound to
    result: str | None = None
    #: shown instead of `code` where the code is too long for a table
    label: str | None = None

    @property
    def title(self) -> str:
        return self.label or self.code


@dataclass(frozen=True)
class Section:
    """Rows that compute the same thing, and the floor they are compared to."""

    key: str
    title: str
    floor: Case
    cases: tuple[Case, ...]

    @property
    def rows(self) -> tuple[Case, ...]:
        return (self.floor, *self.cases)


def actgrad_rows(function: str, arrays: str) -> tuple[Case, Case]:
    """The two actgrad rows of a function: with ``out=`` and allocating."""
    return (Case(f"ag.{function}({arrays}, out=out)", ACTGRAD),
            Case(f"ag.{function}({arrays})", ACTGRAD))


def relu_sections() -> tuple[Section, ...]:
    """The founding question: the ReLU derivative, and ReLU's backward pass."""
    derivative = Section(
        "derivative", "ReLU derivative",
        floor=Case("np.copyto(out, x)", FLOOR, result="out"),
        cases=(
            Case("np.copy(x)", ALLOC_FLOOR),
            *actgrad_rows("relu_grad", "x"),
            Case("(x > 0) * 1"),
            Case("np.where(x <= 0, 0, 1)"),
            Case("np.greater(x, 0).astype(int)"),
            Case("1. * (x > 0)"),
            Case("np.heaviside(x, 0)"),
            Case("d = x.copy(); d[d <= 0] = 0; d[d > 0] = 1", result="d"),
            Case("np.greater(x, 0, out=out_bool)"),
            Case("ne.evaluate('where(x > 0, 1, 0)')", PEER, "numexpr"),
            Case("ne.evaluate('where(x > 0, 1, 0)', out=out)", PEER, "numexpr"),
            Case("(xt > 0).to(xt.dtype)", PEER, "torch", label="torch: (x > 0).to(x.dtype)"),
        ),
    )
    backward = Section(
        "backward", "ReLU backward pass",
        floor=Case("np.add(g, x, out=out)", FLOOR),
        cases=(
            Case("np.add(g, x)", ALLOC_FLOOR),
            *actgrad_rows("relu_backward", "g, x"),
            Case("g * (x > 0)"),
            Case("np.where(x > 0, g, 0)"),
            Case("ne.evaluate('where(x > 0, g, 0)')", PEER, "numexpr"),
            Case("ne.evaluate('where(x > 0, g, 0)', out=out)", PEER, "numexpr"),
            Case("torch.ops.aten.threshold_backward(gt, xt, 0)", PEER, "torch",
                 label="torch: threshold_backward(g, x, 0)"),
            Case("torch.ops.aten.threshold_backward.grad_input(gt, xt, 0, grad_input=outt)",
                 PEER, "torch", label="torch: threshold_backward(g, x, 0, grad_input=out)"),
        ),
    )
    return (derivative, backward)


#: Calling overhead on a tiny float64 array: the first row is the reference.
OVERHEAD_CASES = (
    Case("np.exp(x)", FLOOR),
    Case("ag.relu_grad(x)", ACTGRAD),
    Case("ag.leaky_relu_grad(x)", ACTGRAD),
)
OVERHEAD_LIMIT = 1.5


@dataclass(frozen=True)
class Target:
    """A speed target of the contract, checked on one row of one section."""

    dtype: str
    size: int
    section: str
    code: str
    limit: float
    #: a row whose ratio is printed alongside, for context
    context: str | None = None


TARGETS = (
    Target("float32", 10**7, "derivative", "ag.relu_grad(x, out=out)", 1.1),
    Target("float32", 10**7, "backward", "ag.relu_backward(g, x, out=out)", 1.1),
    Target("float32", 10**7, "derivative", "ag.relu_grad(x)", 1.35, context="np.copy(x)"),
    Target("float32", 10**7, "backward", "ag.relu_backward(g, x)", 1.35, context="np.add(g, x)"),
)


# --------------------------------------------------------------------------
# Measurement

@dataclass
class Row:
    case: Case
    time: float | None = None         # median seconds per call
    samples: list = field(default_factory=list)
    number: int = 1                   # calls per sample
    goal: int = 0                     # samples to take
    extra: int | None = None          # bytes allocated per call beyond the result
    dtype: str = ""                   # the result's dtype
    error: str | None = None          # why the row could not run

    @property
    def best(self) -> float | None:
        return min(self.samples) if self.samples else None


@dataclass
class Settings:
    target: float = 0.015      # seconds per sample
    repeats: int = 5           # samples per row (floors and actgrad rows: always)
    large_repeats: int = 3     # samples of other rows when one call is a sample
    slow: float = 0.2          # seconds: a call of an idiom, peer or allocating floor
    slow_repeats: int = 2      # this slow gets at most this many samples,
    slow_budget: float = 0.5   # and at most this many seconds of them (10^8 elements)


class Progress:
    """One status line on stderr, rewritten in place on a terminal."""

    def __init__(self, stream=sys.stderr, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.last = ""

    def update(self, message: str, detail: str = "") -> None:
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r\033[K" + message + (": " + detail if detail else ""))
            self.stream.flush()
        elif message != self.last:  # a log: one line per step, not per row
            self.stream.write(message + "\n")
            self.stream.flush()
        self.last = message

    def done(self, message: str) -> None:
        if not self.enabled:
            return
        self.stream.write(("\r\033[K" if self.tty else "") + message + "\n")
        self.stream.flush()


#: Names of the namespace's own arrays: a result that is one of them is not new.
BASE_ARRAYS = ("x", "g", "out", "out_bool", "xt", "gt", "outt")


@dataclass(frozen=True)
class Calibration:
    """What tracemalloc sees of the measuring itself, subtracted from each row."""

    call: int      # bytes the harness allocates to run a statement that allocates nothing
    array: int     # bytes of an ndarray object beyond its data buffer

    @classmethod
    def measure(cls) -> "Calibration":
        ns = {"np": np, "x": np.zeros(1000)}

        def least(case: Case) -> int:
            run = _result_getter(case, ns)
            run()
            return min(_traced(run)[0] for _ in range(5))
        call = least(Case("x"))
        array = least(Case("np.empty(1000)")) - call - 8000
        return cls(call, max(0, array))


def _traced(call) -> tuple[int, object]:
    """Peak bytes allocated during call() and its result."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, result


@functools.lru_cache(maxsize=None)
def _compiled(source: str, mode: str):
    return compile(source, f"<bench {source}>", mode)


def _result_getter(case: Case, namespace: dict):
    """A call that runs the case once and returns its result."""
    if case.result is None:
        code = _compiled(case.code, "eval")
        return lambda: eval(code, namespace)
    code = _compiled(case.code, "exec")
    name = case.result

    def run():
        exec(code, namespace)
        return namespace[name] if name in BASE_ARRAYS else namespace.pop(name)
    return run


def _dtype_name(result) -> str:
    dtype = getattr(result, "dtype", None)
    return str(dtype).removeprefix("torch.") if dtype is not None else type(result).__name__


def _is_untracked(result) -> bool:
    """Memory tracemalloc cannot see (torch tensors)."""
    return not isinstance(result, (np.ndarray, np.generic))


def _prepare(row: Row, namespace: dict, warm: dict, settings: Settings,
             calibration: Calibration):
    """Warm up, measure allocation and calibrate; return a Timer or None.

    The warm-up call runs on the small arrays of `warm` (same dtype), so that
    first-call caches do not count as allocations at any size.
    """
    case = row.case
    try:
        _result_getter(case, warm)()
        run = _result_getter(case, namespace)
        first = time.perf_counter()
        peak, result = _traced(run)
        first = time.perf_counter() - first
    except Exception as exc:  # a peer that does not support this dtype, say
        row.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:60]
        return None
    row.dtype = _dtype_name(result)
    peak -= calibration.call
    if _is_untracked(result):
        row.extra = None
    elif any(result is namespace.get(name) for name in BASE_ARRAYS):
        row.extra = max(0, peak)  # written into an existing array
    else:
        row.extra = max(0, peak - result.nbytes - calibration.array)
    del result, run
    timer = timeit.Timer(case.code, globals=namespace)
    if first >= settings.target / 2:  # one call is a sample
        row.number = 1
        # The rows the targets are judged on get as many samples as small calls.
        row.goal = settings.repeats if case.role in (FLOOR, ACTGRAD) else settings.large_repeats
        if first >= settings.slow and case.role in (IDIOM, PEER, ALLOC_FLOOR):
            # Many times the floor (10^8 elements): the traced call is a
            # sample too (tracemalloc costs nothing next to it), and a row
            # gets at most settings.slow_budget seconds of samples.
            row.goal = max(1, min(settings.slow_repeats, int(settings.slow_budget / first)))
            row.samples.append(first)
        return timer
    # Calibrate: the number of calls that makes one sample last settings.target.
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= settings.target / 10 or number >= 10**7:
            break
        number *= 10
    row.number = max(1, round(number * settings.target / max(elapsed, 1e-9)))
    row.goal = settings.repeats if row.number > 1 else settings.large_repeats
    return timer


def measure_rows(cases, namespace: dict, warm: dict, settings: Settings,
                 calibration: Calibration, progress: Progress, message: str) -> list[Row]:
    """Time the cases round-robin; each row gets the median of its samples."""
    rows = [Row(case) for case in cases]
    timers = []
    for row in rows:
        progress.update(message, row.case.title)
        timers.append(_prepare(row, namespace, warm, settings, calibration))
    live = [(row, timer) for row, timer in zip(rows, timers) if timer is not None]
    for round_ in range(max((row.goal for row, _ in live), default=0)):
        for row, timer in live:
            if len(row.samples) < row.goal:
                progress.update(message, f"round {round_ + 1}, {row.case.title}")
                row.samples.append(timer.timeit(row.number) / row.number)
    for row, _ in live:
        row.time = statistics.median(row.samples)
    return rows


def _random(size: int, dtype: np.dtype, seed: int) -> np.ndarray:
    """Standard normal values: random signs, as a network's pre-activations.

    A large array repeats a random block of 2^20 values, far too long a
    period for a branch predictor to learn, and much faster to make.
    """
    rng = np.random.default_rng(seed)
    block = rng.standard_normal(min(size, 2**20)).astype(dtype)
    if size == block.size:
        return block
    out = np.empty(size, dtype)
    for start in range(0, size, block.size):
        chunk = out[start:start + block.size]
        chunk[...] = block[:chunk.size]
    return out


def make_namespace(size: int, dtype: np.dtype, modules: dict, seed: int = 0) -> dict:
    import actgrad

    x, g = _random(size, dtype, seed), _random(size, dtype, seed + 1)
    # np.full, not np.zeros: calloc'd pages would fault in on the first call.
    ns = {"np": np, "ag": actgrad, "x": x, "g": g,
          "out": np.full(size, 0, dtype), "out_bool": np.full(size, False)}
    if "numexpr" in modules:
        ns["ne"] = modules["numexpr"]
    if "torch" in modules:
        torch = modules["torch"]
        ns["torch"] = torch
        try:
            ns.update(xt=torch.from_numpy(x), gt=torch.from_numpy(g),
                      outt=torch.from_numpy(ns["out"]))
        except TypeError:  # a dtype torch does not have
            pass
    return ns


def load_optional() -> tuple[dict, dict]:
    """Import the optional peers, each limited to one thread (both have
    ``set_num_threads``), and a note for each that is missing."""
    modules, notes = {}, {}
    for key, (name, requirement) in OPTIONAL.items():
        try:
            module = importlib.import_module(name)
        except ImportError:
            notes[key] = f"not installed, its rows are skipped (pip install {requirement})"
            continue
        module.set_num_threads(1)
        modules[key] = module
    return modules, notes


# --------------------------------------------------------------------------
# Results and reports

@dataclass
class Group:
    dtype: str
    size: int
    section: Section
    rows: list[Row]

    @property
    def floor(self) -> Row:
        return self.rows[0]

    def ratio(self, row: Row) -> float | None:
        if row.time is None or self.floor.time is None:
            return None
        return row.time / self.floor.time

    def row(self, code: str) -> Row | None:
        return next((r for r in self.rows if r.case.code == code), None)

    @property
    def fastest(self) -> Row | None:
        timed = [r for r in self.rows if r.case.role not in (FLOOR, ALLOC_FLOOR)
                 and r.time is not None]
        return min(timed, key=lambda r: r.time, default=None)


def _micro() -> str:
    try:
        "µ".encode(sys.stdout.encoding or "ascii")
        return "µ"
    except (UnicodeEncodeError, LookupError):
        return "u"


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), (_micro() + "s", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            value = seconds / scale
            return f"{value:.3g} {unit}" if value < 1000 else f"{value:.0f} {unit}"
    raise AssertionError


def format_bytes(n: int | None) -> str:
    if n is None:
        return "n/a"
    if n == 0:
        return "0"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def format_size(n: int) -> str:
    """10^3 and up as a power of ten where exact; otherwise the number."""
    exponent = round(math.log10(n)) if n > 0 else 0
    return f"10^{exponent}" if exponent >= 3 and 10**exponent == n else f"{n:,}"


def format_ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


class Table:
    """Rows of cells, printed aligned as text or as GitHub markdown."""

    def __init__(self, header: list[str], align: str):
        self.header, self.align, self.rows = header, align, []

    def add(self, cells: list[str]) -> None:
        self.rows.append(cells)

    def render(self, markdown: bool) -> str:
        if markdown:
            rule = ["---:" if a == "r" else "---" for a in self.align]
            lines = [self.header, rule, *self.rows]
            return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
        widths = [max(len(r[i]) for r in [self.header, *self.rows])
                  for i in range(len(self.header))]

        def line(cells):
            return "  ".join(c.rjust(w) if a == "r" else c.ljust(w)
                             for c, w, a in zip(cells, widths, self.align)).rstrip()
        return "\n".join([line(self.header), line(["-" * w for w in widths]),
                          *(line(r) for r in self.rows)])


def _code(text: str, markdown: bool) -> str:
    return f"`{text}`" if markdown else text


def group_table(group: Group, markdown: bool) -> str:
    table = Table([group.section.title, "result", "median", "vs floor", "extra/call", ""],
                  "lrrrrl")
    fastest = group.fastest
    for row in group.rows:
        role = row.case.role
        note = {FLOOR: "floor", ALLOC_FLOOR: "allocating floor"}.get(role, "")
        if row is fastest:
            note = "fastest" + (" (actgrad)" if role == ACTGRAD else "")
            note = f"**{note}**" if markdown else "<- " + note
        if row.error is not None:
            table.add([_code(row.case.title, markdown), "", "", "", "", "skipped: " + row.error])
            continue
        table.add([_code(row.case.title, markdown), row.dtype, format_time(row.time),
                   format_ratio(group.ratio(row)), format_bytes(row.extra), note])
    return table.render(markdown)


def describe_machine(modules: dict) -> str:
    import actgrad
    from .. import _ufuncs

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    parts = [f"actgrad {actgrad.__version__} ({_ufuncs._get_isa()} loops)",
             f"numpy {np.__version__}"]
    for key, module in modules.items():
        parts.append(f"{key} {module.__version__} (1 thread)")
    parts.append(f"Python {platform.python_version()}")
    parts.append(f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs")
    return ", ".join(parts)


def load_average() -> str:
    """The 1-minute load average against the CPU count: how busy the machine was."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows
        return "unknown"
    return f"{load:.1f} on {os.cpu_count()} CPUs"


def heading(text: str, markdown: bool, level: int = 3) -> str:
    return ("#" * level + " " + text) if markdown else text


LEGEND = (
    "median: median time per call. vs floor: ratio to the section's floor, timed "
    "round-robin in the same run (np.copyto(out, x) for a derivative, "
    "np.add(g, x, out=out) for a backward pass). extra/call: bytes allocated per call "
    "beyond the returned array (tracemalloc; 0 with out=; n/a for torch, whose "
    "allocator tracemalloc cannot see). The allocating floor is the same copy into a "
    "fresh array: NumPy's cost of allocating the output (page faults for large arrays), "
    "which every call without out= pays. x and g are standard normal; numexpr and "
    "torch run on one thread, torch on torch.from_numpy views. Rows of 0.2 s or more "
    "per call (10^8 elements, far off the floor) are timed once or twice."
)


def _wrap(text: str, width: int = 88) -> str:
    import textwrap

    return textwrap.fill(text, width)


def verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured"
    return "PASS" if value <= limit else "MISS"


def _target_label(prefix: str, code: str, markdown: bool) -> str:
    return f"{prefix}: {_code(code, markdown)}"


def summary(groups: list[Group], overhead: list[Row] | None, markdown: bool) -> str:
    table = Table(["target", "measured", "limit", ""], "lrrl")
    index = {(g.dtype, g.size, g.section.key): g for g in groups}
    floors = {s.key: s.floor.code for g in groups for s in [g.section]}
    for t in TARGETS:
        label = _target_label(f"{t.dtype} {format_size(t.size)}", t.code, markdown)
        limit = f"{t.limit}x " + (_code(floors[t.section], markdown) if t.section in floors
                                  else f"the {t.section} floor")
        group = index.get((t.dtype, t.size, t.section))
        row = group.row(t.code) if group else None
        if row is None or row.time is None:
            table.add([label, "-", limit, f"not measured (add --sizes 1e{round(math.log10(t.size))}"
                                          f" --dtypes {t.dtype})"])
            continue
        ratio = group.ratio(row)
        note = verdict(ratio, t.limit)
        context = group.row(t.context) if t.context else None
        if context is not None and context.time is not None:
            note += f" ({t.context} itself: {format_ratio(group.ratio(context))})"
        table.add([label, format_ratio(ratio), limit, note])
    if overhead:
        ref = overhead[0]
        for row in overhead[1:]:
            ratio = overhead_ratio(row, ref)
            label = _target_label(f"float64 {OVERHEAD_SIZE} elements", row.case.code, markdown)
            limit = f"{OVERHEAD_LIMIT}x {_code(ref.case.code, markdown)}"
            table.add([label, format_ratio(ratio), limit, verdict(ratio, OVERHEAD_LIMIT)])
    notes = []
    # actgrad as the fastest row, and what it allocates.
    tables = [g for g in groups if any(r.case.role == ACTGRAD for r in g.rows)]
    wins = [g for g in tables if g.fastest is not None and g.fastest.case.role == ACTGRAD]
    if tables:
        narrower = sum(1 for g in tables if g not in wins and g.fastest is not None
                       and np.dtype(g.fastest.dtype).itemsize < np.dtype(g.dtype).itemsize)
        notes.append(f"actgrad is the fastest row in {len(wins)} of {len(tables)} tables: "
                     + ("PASS" if len(wins) == len(tables) else "MISS")
                     + (f" (in {narrower} of the others the faster row writes a narrower "
                        "dtype than x's)" if narrower else ""))
    for g in tables:
        best = min((r for r in g.rows if r.case.role == ACTGRAD and r.time is not None),
                   key=lambda r: r.time, default=None)
        if g in wins or g.fastest is None or best is None:
            continue
        notes.append(f"- {g.dtype} {format_size(g.size)} {g.section.title}: "
                     f"{_code(g.fastest.case.title, markdown)} ({format_time(g.fastest.time)}) "
                     f"is {best.time / g.fastest.time:.2f}x faster than "
                     f"{_code(best.case.code, markdown)} ({format_time(best.time)})"
                     + (f", writing {g.fastest.dtype} instead of {best.dtype}"
                        if g.fastest.dtype != best.dtype else ""))
    extras = [r.extra for g in groups for r in g.rows
              if r.case.role == ACTGRAD and r.extra is not None]
    if extras:
        notes.append("actgrad allocates nothing beyond its output (largest extra/call: "
                     f"{format_bytes(max(extras))}): " + ("PASS" if max(extras) == 0 else "MISS"))
    lines = [table.render(markdown), ""]
    for note in notes:
        if markdown and not note.startswith("- ") and len(lines) > 2:
            lines.append("")  # a paragraph of its own, not part of the list above
        lines.append(note)
    return "\n".join(lines)


def overhead_ratio(row: Row, reference: Row) -> float | None:
    """Best against best: on a shared machine (CPU steal), a short call's median
    drifts with the load, its best time does not."""
    if row.best is None or reference.best is None:
        return None
    return row.best / reference.best


def overhead_table(rows: list[Row], markdown: bool) -> str:
    n = max(len(r.samples) for r in rows)
    table = Table([f"call on {OVERHEAD_SIZE} float64 elements", "median", f"best of {n}",
                   f"best vs {rows[0].case.code}"], "lrrr")
    for row in rows:
        table.add([_code(row.case.code, markdown), format_time(row.time), format_time(row.best),
                   format_ratio(overhead_ratio(row, rows[0]))])
    return table.render(markdown)


# --------------------------------------------------------------------------
# Command line

def parse_size(text: str) -> int:
    """'1000', '1e7', '10^7' or '10**7' -> int."""
    t = text.strip().lower().replace("_", "")
    try:
        if "^" in t or "**" in t:
            base, exp = t.replace("**", "^").split("^")
            value = int(base) ** int(exp)
        else:
            value = float(t)
            if value != int(value):
                raise ValueError
            value = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"size must be at least 1, got {text!r}")
    return value


def _split(values: list[str] | None) -> list[str]:
    return [v for value in values or () for v in value.replace(",", " ").split()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", nargs="+", metavar="N",
                        help="array sizes in elements (default 1e3 1e5 1e7 1e8; "
                             "accepts 1000, 1e7, 10^7)")
    parser.add_argument("--dtypes", nargs="+", metavar="DTYPE",
                        help="float dtypes (default float32 float64)")
    parser.add_argument("--quick", action="store_true",
                        help="sizes 1e3 and 1e5 only, shorter timings (for tests)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the tables as GitHub markdown")
    parser.add_argument("--repeats", type=int, metavar="R",
                        help="timing samples per row (default 5; for other rows than "
                             "floors and actgrad, 3 for calls over 7.5 ms and 1 or 2 "
                             "for calls over 0.2 s)")
    parser.add_argument("--no-progress", action="store_true",
                        help="do not report progress on stderr")
    parser.add_argument("--catalogue", action="store_true",
                        help="time f and f' of the smooth activations against the NumPy idiom, "
                             "numexpr, PyTorch and JAX on one core (default sizes 1e6 1e7)")
    parser.add_argument("--functions", nargs="+", metavar="NAME",
                        help="with --catalogue: the activations to time (default: all smooth "
                             "ones, then softmax, log_softmax and glu)")
    parser.add_argument("--no-peers", action="store_true",
                        help="with --catalogue: time actgrad and the NumPy idiom only")
    parser.add_argument("--threads", type=int, metavar="N", default=1,
                        help="with --catalogue: run actgrad's loops on N threads, pinned to N "
                             "cores (default 1); the peers keep one thread")
    parser.add_argument("--isa", metavar="LEVEL",
                        help="run actgrad's loops with this instruction set: baseline, avx2 "
                             "or avx512 (default: the best this CPU supports; the "
                             "environment variable ACTGRAD_CPU does the same)")


def run_cli(args: argparse.Namespace) -> int:
    try:
        sizes = [parse_size(s) for s in _split(args.sizes)] or None
    except argparse.ArgumentTypeError as exc:
        print(f"actgrad bench: {exc}", file=sys.stderr)
        return 2
    dtypes = _split(args.dtypes) or list(DEFAULT_DTYPES)
    for name in dtypes:
        try:
            ok = np.dtype(name).kind == "f"
        except TypeError:
            ok = False
        if not ok:
            print(f"actgrad bench: not a float dtype: {name!r}", file=sys.stderr)
            return 2
    if args.isa is not None:
        from .. import _ufuncs

        try:
            _ufuncs._set_isa(args.isa)
        except ValueError as exc:
            print(f"actgrad bench: --isa: {exc}", file=sys.stderr)
            return 2
    if args.catalogue:
        from . import catalogue as _bench_catalogue

        if args.threads < 1:
            print("actgrad bench: --threads must be at least 1", file=sys.stderr)
            return 2
        return _bench_catalogue.run(sorted(sizes or (10**6, 10**7)), dtypes,
                                    _split(args.functions), args.no_peers, args.threads)
    settings = Settings()
    if args.quick:
        settings = Settings(target=0.002, repeats=3, large_repeats=1, slow_repeats=1)
    if args.repeats is not None:
        if args.repeats < 1:
            print("actgrad bench: --repeats must be at least 1", file=sys.stderr)
            return 2
        settings.repeats = settings.large_repeats = settings.slow_repeats = args.repeats
    sizes = sizes or list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    run_bench(sorted(sizes), dtypes, relu_sections(), settings, markdown=args.markdown,
              progress=Progress(enabled=not args.no_progress))
    return 0


def run_bench(sizes, dtypes, sections, settings: Settings, markdown: bool = False,
              progress: Progress | None = None, stream=None) -> list[Group]:
    stream = stream or sys.stdout
    progress = progress or Progress()
    start = time.perf_counter()

    def emit(text: str = "") -> None:
        print(text, file=stream, flush=True)

    progress.update("actgrad bench: importing optional peers")
    modules, notes = load_optional()
    calibration = Calibration.measure()
    # The calling overhead first, before large arrays have churned the heap.
    tiny = {"np": np, "ag": importlib.import_module("actgrad"),
            "x": np.random.default_rng(0).standard_normal(OVERHEAD_SIZE)}
    # Many short samples, finely interleaved: bursts of load hit every row alike.
    overhead_settings = Settings(target=settings.target / 3, repeats=8 * settings.repeats + 1)
    overhead_rows = measure_rows(OVERHEAD_CASES, tiny, tiny, overhead_settings,
                                 calibration, progress, "calling overhead")
    emit(heading("actgrad bench", markdown, 2))
    emit()
    emit(describe_machine(modules))
    load_at_start = load_average()
    for key, note in notes.items():
        emit(f"{key}: {note}")
    emit()
    emit(_wrap(LEGEND) if not markdown else LEGEND)
    groups: list[Group] = []
    steps = len(sizes) * len(dtypes)
    step = 0
    for dtype_name in dtypes:
        dtype = np.dtype(dtype_name)
        for size in sizes:
            step += 1
            ns = make_namespace(size, dtype, modules)
            warm = make_namespace(min(size, 1000), dtype, modules)
            available = set(modules) - ({"torch"} if "xt" not in ns else set())
            per_array = format_bytes(size * dtype.itemsize)
            emit()
            emit(heading(f"{dtype.name}, {format_size(size)} elements "
                         f"({per_array} per array)", markdown))
            if "torch" in modules and "torch" not in available:
                emit()
                emit(f"torch has no {dtype.name}: its rows are skipped.")
            for section in sections:
                cases = [c for c in section.rows if c.needs is None or c.needs in available]
                message = (f"[{step}/{steps}] {dtype.name} {format_size(size)} "
                           f"{section.title} ({time.perf_counter() - start:.0f} s)")
                rows = measure_rows(cases, ns, warm, settings, calibration, progress, message)
                group = Group(dtype.name, size, section, rows)
                groups.append(group)
                emit()
                emit(group_table(group, markdown))
            del ns, warm
            gc.collect()
    emit()
    emit(heading("Calling overhead", markdown))
    emit()
    emit(overhead_table(overhead_rows, markdown))
    emit()
    emit(heading("Targets", markdown))
    emit()
    emit(summary(groups, overhead_rows, markdown))
    elapsed = time.perf_counter() - start
    emit()
    emit(f"Load average: {load_at_start} at the start, {load_average()} at the end "
         "(other work on the machine shows as noise in the timings).")
    progress.done(f"actgrad bench: done in {elapsed:.0f} s")
    return groups
