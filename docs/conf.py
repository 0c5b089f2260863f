"""Sphinx configuration of actgrad's documentation.

    pip install ".[docs]"
    python -m sphinx -W --keep-going -b html docs build/docs
    python -m sphinx -W --keep-going -b doctest docs build/doctest

The API pages and the plot of every elementwise activation are generated at
build time from the activation table (``_ext/actgrad_docs.py``); the measured
tables come from ``docs/_generated``, written by ``python tools/docs_tables.py``.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))

import actgrad  # noqa: E402

project = "actgrad"
author = "the actgrad developers"
copyright = "the actgrad developers"
release = version = actgrad.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "actgrad_docs",
]

source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build", "_generated", "api/generated/plots"]
templates_path = []

html_theme = "pydata_sphinx_theme"
html_title = f"actgrad {release}"
html_static_path = ["_static"]
html_css_files = ["actgrad.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": {"**": ["page-toc"], "api/index": [], "index": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# the left sidebar lists the API pages; the other pages have no children
html_sidebars = {name: [] for name in ("index", "quickstart", "tutorial", "contract", "accuracy",
                                       "performance", "backends", "adding_an_activation")}

# numpydoc renders the docstrings that the activation table generates
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_class_members_toctree = False
autosummary_generate = False
autodoc_typehints = "none"
add_function_parentheses = False

# the included benchmark output starts its headings at level 4
suppress_warnings = ["myst.header"]
myst_enable_extensions = []

doctest_global_setup = """
import numpy as np
import actgrad as ag
"""
