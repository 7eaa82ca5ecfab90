"""Reading results: comparison statistics and the sensitivity analysis of sweeps."""
