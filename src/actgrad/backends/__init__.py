"""How actgrad serves arrays other than a plain ndarray.

``kinds``         the one place that decides what kind of array an argument is
``native``        actgrad's C++ ufuncs on torch CPU tensors and JAX CPU arrays
``xp``            torch, JAX and CuPy arrays elsewhere: the Array API engines
``xp_kernels``    the Array API kernels of the elementwise activations
``xp_axis``       those of softmax, log_softmax, glu and prelu
``xp_math``       vecmath.hpp's building blocks for them (exp in parts, double-double)
``coeffs``        the C++ kernels' constants, parsed from their headers
``cupy_kernels``  CuPy elementwise kernels compiled from the C++ headers
``containers``    dask, xarray and masked arrays along an axis
``quantities``    pint and astropy quantities (registration, units)

None of these modules imports an array library at import time.
"""
