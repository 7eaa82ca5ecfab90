"""Numba kernels: per-agent rules (plain Python, inlined by Numba) and the loops that apply them."""
