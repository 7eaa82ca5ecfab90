"""Numba kernels: per-agent rules (plain Python, compiled by Numba) and the loops that apply them.

OpenMP threads spin while they wait by default; on a shared 2-core machine a busy neighbour then makes two
threads up to 25x slower than one (measured: 1,352 vs 53 ms per month at 1M households). Passive waiting
keeps two threads never worse than one. It must be set before the OpenMP runtime loads (at the first parallel
kernel call); a value the user has set is kept.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
