"""The model: state tables, the district build, the kernels and the Python twin, the Mesa model.

`BACKENDS` is declared here, where importing it costs nothing (the model itself loads Mesa and Numba)."""

BACKENDS = ("numba", "python")  # compiled kernels, or the per-agent Python twin
