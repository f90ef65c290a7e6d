"""One BLAS thread for the engine (imported first by the package).

The engine multiplies tall matrices by tiny ones (tokens x d by d x w); multi-threaded BLAS is up
to 50x slower there on a busy machine. EXACTINTERP_BLAS_THREADS overrides the limit. JAX (used
by the training chapter) has its own thread pool and is not affected.
"""

import os

import numpy  # noqa: F401  (load OpenBLAS before limiting it)
from threadpoolctl import threadpool_limits

threadpool_limits(int(os.environ.get("EXACTINTERP_BLAS_THREADS", "1")), user_api="blas")
