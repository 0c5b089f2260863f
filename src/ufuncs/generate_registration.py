"""Build step: turn the activation table into the ufunc registration code.

Usage: generate_registration.py TABLE.py REGISTRATION.inc UFUNCS_0.cpp ...

Each (activation, form) becomes one UfuncEntry: the ufunc's name, its
docstring and the LoopSet factory instantiated from the loop template for
that kernel.  The entries are spread over the given translation units
(ufuncs_N.cpp), balanced by an estimate of their compile cost, so that the
build compiles them in parallel; REGISTRATION.inc lists the parts for
module.cpp.  Everything else is C++ templates in loops.hpp.
"""

import importlib.util
import json
import sys

act_table = None

# Relative compile cost of one ufunc of a kernel in each header (the
# double-double arithmetic of gelu and mish makes large loops).
HEADER_COST = {"gelu.hpp": 6, "mish.hpp": 5, "logistic.hpp": 3, "exp_linear.hpp": 2,
               "axis_loops.hpp": 5}
DEFAULT_COST = 1


def load_table(path):
    spec = importlib.util.spec_from_file_location("actgrad_table", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


def c_string(text):
    # JSON string escaping is valid C for the ASCII text of our docstrings.
    text.encode("ascii")
    return json.dumps(text)


def ufunc_doc(act, variant, form):
    doc = act.docstring(form)
    if not act.params:
        return doc
    name = act.name + variant.suffix + form.suffix
    inputs = ", ".join(form.arrays + variant.params)
    selected = ""
    if act.selector:
        key = "a number" if variant.key == act_table.REAL else repr(variant.key)
        selected = f" with {act.selector}={key}"
    return (f"Ufunc form of actgrad.{act.function_name(form)}{selected}: every parameter is an "
            f"input that broadcasts,\n{name}({inputs}).\n\n" + doc)


def axis_entry(act, form):
    """A ufunc of an activation along an axis: a gufunc, or elementwise in two arrays."""
    op = f"AxisOp<kernels::{act.kernel_struct}, AxisKind::{form.kind}>"
    name = c_string(act.function_name(form))
    doc = c_string(act.ufunc_docstring(form))
    if form.signature:
        return f"    {{{name}, {doc},\n     &make_gufunc_loops<{op}>, {c_string(form.signature)}}},"
    return f"    {{{name}, {doc},\n     &make_loops<{op}, 0, false>}},"


def entries(table):
    """(header, cost, C++ initializer) of every ufunc."""
    out = []
    for act in table.ACTIVATIONS:
        cost = HEADER_COST.get(act.header, DEFAULT_COST)
        for variant in act.ufunc_variants():
            for form in table.FORMS:
                keep = "true" if act.keeps_integers and form.kind == "f" else "false"
                op = f"Form<kernels::{variant.kernel}, FormKind::{form.kind}>"
                name = act.name + variant.suffix + form.suffix
                out.append((act.header, cost,
                            f"    {{{c_string(name)}, {c_string(ufunc_doc(act, variant, form))},\n"
                            f"     &make_loops<{op}, {len(variant.params)}, {keep}>}},"))
    for act in table.AXIS_ACTIVATIONS:
        cost = HEADER_COST.get(act.header, DEFAULT_COST)
        out.extend((act.header, cost, axis_entry(act, form)) for form in act.forms)
    return out


def partition(items, n):
    """Greedy: the costliest first, each into the cheapest part so far."""
    parts = [[] for _ in range(n)]
    load = [0] * n
    for item in sorted(items, key=lambda e: -e[1]):
        k = load.index(min(load))
        parts[k].append(item)
        load[k] += item[1]
    return parts


PART_PROLOGUE = """// Generated from _table.py by generate_registration.py; do not edit.
#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL actgrad_ARRAY_API
#define PY_UFUNC_UNIQUE_SYMBOL actgrad_UFUNC_API
#define NO_IMPORT_ARRAY
#define NO_IMPORT_UFUNC

#include "registration.hpp"
#include "axis_loops.hpp"
"""


def main(table_path, inc_path, *part_paths):
    global act_table
    table = act_table = load_table(table_path)
    parts = partition(entries(table), len(part_paths))
    for k, (path, part) in enumerate(zip(part_paths, parts)):
        headers = sorted({h for h, _, _ in part} - {"axis_loops.hpp"})  # in the prologue
        text = PART_PROLOGUE + "".join(f'#include "{h}"\n' for h in headers)
        text += "\nnamespace actgrad {\n"
        if part:
            text += "static const UfuncEntry entries[] = {\n" + "\n".join(e for _, _, e in part)
            text += "\n};\n"
            text += f"extern const UfuncEntries ufuncs_part_{k} = {{entries, {len(part)}}};\n"
        else:
            text += f"extern const UfuncEntries ufuncs_part_{k} = {{nullptr, 0}};\n"
        text += "}  // namespace actgrad\n"
        with open(path, "w") as f:
            f.write(text)
    n = len(part_paths)
    text = "// Generated from _table.py by generate_registration.py; do not edit.\n"
    text += "namespace actgrad {\n" + "".join(
        f"extern const UfuncEntries ufuncs_part_{k};\n" for k in range(n)) + "}\n"
    text += "static const actgrad::UfuncEntries *const ufunc_parts[] = {\n"
    text += "".join(f"    &actgrad::ufuncs_part_{k},\n" for k in range(n)) + "};\n"
    with open(inc_path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main(*sys.argv[1:])
