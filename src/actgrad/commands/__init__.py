"""The ``actgrad`` command line's commands and what they measure with.

``bench``             ``actgrad bench``: speed and memory against NumPy idioms and peers
``catalogue``         ``actgrad bench --catalogue``: every activation against its peers
``accuracy``          ``actgrad accuracy``: ulp error against the committed mpmath sample
``sweep``             ``actgrad accuracy --sweep``: the dense sweep over float16/32/64
``sweep_reference``   the sweep's independent reference (long double, double-double, arb)
``mpmath_reference``  the mpmath oracle (the tests and tools import it from here)
"""
