"""The ``actgrad`` command: ``actgrad bench`` and ``actgrad accuracy`` (also ``python -m actgrad ...``).

Each subcommand is a module with ``DESCRIPTION``, ``add_arguments(parser)`` and
``run_cli(args)`` (which returns the exit status), registered in ``COMMANDS``.
Optional heavy imports (numexpr, torch) happen only when a subcommand runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: name -> (module, one-line help)
COMMANDS = {
    "bench": ("actgrad.commands.bench",
              "time relu_grad and relu_backward against np.copyto/np.add, the usual "
              "NumPy answers, numexpr and PyTorch (--catalogue: the smooth activations)"),
    "accuracy": ("actgrad.commands.accuracy",
                 "max error in ulp against mpmath, with PyTorch and JAX columns "
                 "(--sweep: dense sweeps of every float16, every k-th float32, "
                 "millions of float64)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actgrad",
        description="actgrad: activation functions with exact derivatives, as NumPy ufuncs.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=help_text, description=module.DESCRIPTION)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run_cli)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("\nactgrad: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
