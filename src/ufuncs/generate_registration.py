"""Build step: turn the activation table into the ufunc registration list.

Usage: generate_registration.py TABLE.py OUTPUT.inc

Each (activation, form) becomes one entry of `ufunc_entries`: the ufunc's
name, its docstring and the LoopSet factory instantiated from the loop
template for that kernel.  Everything else is C++ templates in loops.hpp.
"""

import importlib.util
import json
import sys

act_table = None


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


def main(table_path, out_path):
    global act_table
    table = act_table = load_table(table_path)
    headers = sorted({act.header for act in table.ACTIVATIONS}
                     | {act.header for act in table.AXIS_ACTIVATIONS})
    entries = []
    for act in table.ACTIVATIONS:
        for variant in act.ufunc_variants():
            for form in table.FORMS:
                keep = "true" if act.keeps_integers and form.kind == "f" else "false"
                op = f"Form<kernels::{variant.kernel}, FormKind::{form.kind}>"
                name = act.name + variant.suffix + form.suffix
                entries.append(
                    f"    {{{c_string(name)}, {c_string(ufunc_doc(act, variant, form))},\n"
                    f"     &make_loops<{op}, {len(variant.params)}, {keep}>}},"
                )
    for act in table.AXIS_ACTIVATIONS:
        entries.extend(axis_entry(act, form) for form in act.forms)
    text = "// Generated from _table.py by generate_registration.py; do not edit.\n"
    text += "".join(f'#include "{h}"\n' for h in headers)
    text += "\nstatic const UfuncEntry ufunc_entries[] = {\n" + "\n".join(entries) + "\n};\n"
    with open(out_path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main(*sys.argv[1:])
