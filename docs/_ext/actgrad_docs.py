"""Sphinx extension: the API pages and activation plots, generated from the table.

At ``builder-inited`` it writes, under ``docs/api/generated/`` (not committed):

- one page per public name of ``actgrad.__all__`` (the docstring, which the
  activation table renders: formula, f', f'', conventions at kinks, limits,
  parameters and an example, through numpydoc), and a page for
  ``actgrad.ufuncs``;
- ``_names.inc``, the list of elementwise activations with their parameters;
- ``_index.inc``, the tables of the API index page, one row per activation;
- ``plots/NAME.png`` for every elementwise activation: f, f' and f'' computed
  by actgrad's own ufuncs (matplotlib, Agg backend), with a dot at each kink
  for the value the convention picks there.

Nothing here states a fact about an activation: every word and number comes
from ``actgrad._table`` or from calling actgrad.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import actgrad as ag
from actgrad._table import ACTIVATIONS, AXIS_ACTIVATIONS, FORMS

HERE = Path(__file__).resolve().parent.parent
OUT = HERE / "api" / "generated"

#: parameters for the plot where an activation has no default for them
PLOT_PARAMS = {act.name: act.examples.get("params", {}) for act in ACTIVATIONS}


def _write(path: Path, text: str) -> None:
    # rewrite only on change, so that Sphinx's incremental build stays incremental
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _params_text(act) -> str:
    if not act.params:
        return "–"
    return ", ".join(f"``{p.name}``" if p.required else f"``{p.name}={p.default!r}``"
                     for p in act.params)


def _plot_params(act) -> dict:
    return {**act.default_params(), **PLOT_PARAMS[act.name]}


def _plot_range(act) -> float:
    kinks = [abs(k) for k in act.kink_points(**_plot_params(act))]
    return max(4.0, max(kinks, default=0.0) + 2.0)


def _broken(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Insert NaN where y jumps, so that a step is drawn as a step."""
    span = np.nanmax(y) - np.nanmin(y)
    jumps = np.flatnonzero(np.abs(np.diff(y)) > 0.02 * span + 1e-12)
    return np.insert(x, jumps + 1, np.nan), np.insert(y, jumps + 1, np.nan)


def plot_activation(act, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = _plot_params(act)
    r = _plot_range(act)
    kinks = np.array(sorted(set(act.kink_points(**params))), dtype=float)
    x = np.linspace(-r, r, 4001)
    x = x[~np.isin(x, kinks)]
    fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
    styles = (("", "f", "C0", "-"), ("_grad", "f'", "C1", "--"), ("_grad2", "f''", "C2", ":"))
    for suffix, label, color, style in styles:
        fn = getattr(ag, act.name + suffix)
        ax.plot(*_broken(x, fn(x, **params)), style, color=color, lw=1.8, label=label)
        if kinks.size:
            ax.plot(kinks, fn(kinks, **params), "o", color=color, ms=5)
    ax.axhline(0, color="0.6", lw=0.6)
    ax.axvline(0, color="0.6", lw=0.6)
    shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
    ax.set_title(f"{act.name}({'x, ' + shown if shown else 'x'})", fontsize=10)
    ax.set_xlabel("x")
    ax.set_xlim(-r, r)
    ax.legend(loc="best", fontsize=9)
    ax.grid(alpha=0.25)
    fig.savefig(path, dpi=96)
    plt.close(fig)


def _elementwise_page(act, form) -> str:
    name = act.function_name(form)
    forms = ", ".join(f":func:`{act.function_name(f)}`" for f in FORMS)
    params = _plot_params(act)
    shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
    kinks = (" Dots mark the values at the kinks, where the derivatives take the "
             "convention stated below.") if act.kink_points(**params) else ""
    return (
        _title(name)
        + "\n.. currentmodule:: actgrad\n\n"
        + f".. figure:: plots/{act.name}.png\n   :class: activation-plot\n"
        + f"   :alt: {act.name}, its first and second derivative\n\n"
        + f"   f = ``{act.name}``, f' = ``{act.name}_grad`` and f'' = ``{act.name}_grad2``"
        + (f" with {shown}" if shown else "")
        + ", computed by actgrad when these pages were built." + kinks + "\n\n"
        + f"The four forms of ``{act.name}``: {forms}.\n\n"
        + f".. autofunction:: {name}\n"
    )


def _axis_page(act, form) -> str:
    name = act.function_name(form)
    forms = ", ".join(f":func:`{act.function_name(f)}`" for f in act.forms)
    return (_title(name) + "\n.. currentmodule:: actgrad\n\n"
            + f"The forms of ``{act.name}``: {forms}.\n\n"
            + f".. autofunction:: {name}\n")


def _ufuncs_page() -> str:
    names = ag.ufuncs.__all__
    def sig(u):
        return f"``{u.signature}``" if u.signature else "– (elementwise)"
    rows = "\n".join(f"   * - ``{n}``\n     - {sig(getattr(ag.ufuncs, n))}"
                     f"\n     - {getattr(ag.ufuncs, n).nin}" for n in names)
    return (_title("actgrad.ufuncs") + "\n.. currentmodule:: actgrad\n\n"
            + ".. automodule:: actgrad.ufuncs\n   :no-members:\n\n"
            + "The raw ufuncs (and generalized ufuncs), one per public function and "
            + "variant. An activation's parameters are trailing inputs, in the order "
            + "of the public function's keywords; gelu and softplus have one ufunc per "
            + "variant (``gelu_tanh``, ``softplus_threshold``, ...).\n\n"
            + ".. list-table::\n   :header-rows: 1\n\n"
            + "   * - ufunc\n     - gufunc signature\n     - inputs\n" + rows + "\n")


def activation_names(markup: str = "``") -> str:
    """The elementwise activations with their parameters, as one sentence."""
    def one(act):
        if not act.params:
            return f"{markup}{act.name}{markup}"
        params = ", ".join(p.name if p.required else f"{p.name}={p.default!r}"
                           for p in act.params)
        return f"{markup}{act.name}({params}){markup}"
    return ", ".join(one(act) for act in ACTIVATIONS)


def axis_names(markup: str = "``") -> str:
    return ", ".join(f"{markup}{act.name}{markup}" for act in AXIS_ACTIVATIONS)


def _index() -> str:
    lines = [".. list-table:: Elementwise activations: f, f', f'' and the backward pass",
             "   :header-rows: 1", "   :widths: 14 22 36 28", "",
             "   * - activation", "     - parameters", "     - f(x)", "     - forms"]
    label = {"": "f", "_grad": "f'", "_grad2": "f''", "_backward": "backward"}
    for act in ACTIVATIONS:
        forms = " ".join(f":func:`{label[f.suffix]} <{act.function_name(f)}>`" for f in FORMS)
        lines += [f"   * - :func:`{act.name}`", f"     - {_params_text(act)}",
                  f"     - ``{act.formula}``", f"     - {forms}"]
    lines += ["", ".. list-table:: Along an axis", "   :header-rows: 1",
              "   :widths: 14 58 28", "",
              "   * - activation", "     - summary", "     - forms"]
    for act in AXIS_ACTIVATIONS:
        forms = " ".join(f":func:`{f.suffix.lstrip('_') or 'f'} <{act.function_name(f)}>`"
                         for f in act.forms)
        lines += [f"   * - :func:`{act.name}`", f"     - {act.summary}", f"     - {forms}"]
    pages = [n for n in ag.__all__ if n != "ufuncs"] + ["ufuncs"]
    lines += ["", ".. toctree::", "   :hidden:", "", *(f"   generated/{n}" for n in pages), ""]
    return "\n".join(lines)


def generate(app=None) -> None:
    (OUT / "plots").mkdir(parents=True, exist_ok=True)
    written = set()
    for act in ACTIVATIONS:
        plot = OUT / "plots" / f"{act.name}.png"
        plot_activation(act, plot)
        for form in FORMS:
            name = act.function_name(form)
            _write(OUT / f"{name}.rst", _elementwise_page(act, form))
            written.add(name)
    for act in AXIS_ACTIVATIONS:
        for form in act.forms:
            name = act.function_name(form)
            _write(OUT / f"{name}.rst", _axis_page(act, form))
            written.add(name)
    for name in ag.__all__:
        if name == "ufuncs":
            _write(OUT / "ufuncs.rst", _ufuncs_page())
        elif name not in written:
            _write(OUT / f"{name}.rst", _title(name) + "\n.. currentmodule:: actgrad\n\n"
                   + f".. autofunction:: {name}\n")
    _write(OUT / "_index.inc", _index())
    _write(OUT / "_names.inc", activation_names() + ".\n")
    missing = [n for n in ag.__all__ if not (OUT / f"{n}.rst").exists()]
    if missing:
        raise RuntimeError(f"actgrad_docs: no API page for {missing}")


def formulas_as_code(app, what, name, obj, options, lines) -> None:
    """Show the docstrings' indented formula lines as code, not reST.

    The table writes f(x), f'(x) and f''(x) as an indented block
    (``x / (1 + |x|)``); in reST ``|x|`` would be a substitution, so the
    prose around it has its bars escaped.  Only the part before the first
    numpydoc section is touched.
    """
    if not name.startswith("actgrad."):
        return
    end = next((i for i in range(len(lines) - 1)
                if lines[i + 1].startswith("---") and lines[i].strip()), len(lines))
    out, i = [], 0
    while i < end:
        if lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            out += [".. code-block:: text", ""]
            while i < end and (lines[i].startswith("    ") or not lines[i].strip()) and not (
                    not lines[i].strip() and (i + 1 >= end or not lines[i + 1].startswith("    "))):
                out.append(lines[i])
                i += 1
            continue
        out.append(lines[i].replace("|", "\\|"))  # prose: |b| is not a substitution
        i += 1
    lines[:end] = out


def setup(app):
    app.connect("builder-inited", generate)
    # before numpydoc (priority 500) turns the sections into reST
    app.connect("autodoc-process-docstring", formulas_as_code, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
