"""Numba kernels: per-agent rules (plain Python, compiled by Numba) and the loops that apply them.

How OpenMP threads wait between parallel loops decides whether two threads help on a 2-core machine
(1M households, ms per month, measured with benchmarks/bench_model.py and by hand on 2026-11-23):
spinning without bound (OpenMP's default) 43 serial / 25 on two threads on a quiet machine, but up to 25x
slower than serial when another process holds a core; passive waiting is never worse than serial but gains
nothing (48 / 46); passive with a bounded spin (the default set here) gains on a quiet machine (42 / 31) and
costs about 2x next to a busy neighbour. Both variables must be set before the OpenMP runtime loads (the
first parallel kernel call); values the user has set are kept (`OMP_WAIT_POLICY=active` on a dedicated machine).
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "200000")
