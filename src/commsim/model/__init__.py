"""The model: state tables, the district build, the kernels and the Python twin, the Mesa model."""
