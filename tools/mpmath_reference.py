"""The mpmath oracle, for the tools: src/actgrad/commands/mpmath_reference.py, loaded by path.

It is loaded from the source tree, without importing actgrad (and so without
building its extension); ``python tools/mpmath_reference.py`` runs its self-check.
"""

from __future__ import annotations

import importlib.util
import os
import sys

_PATH = os.path.join(os.path.dirname(__file__), "..", "src", "actgrad", "commands",
                     "mpmath_reference.py")
_spec = importlib.util.spec_from_file_location("_actgrad_mpmath_reference", _PATH)
_module = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _module
_spec.loader.exec_module(_module)

REFERENCES = _module.REFERENCES
CASES = _module.CASES
self_check = _module.self_check
mp = _module.mp

if __name__ == "__main__":
    self_check()
    print("ok")
