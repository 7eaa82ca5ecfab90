"""Running the model: one run, executors (serial, process pool, Dask), comparisons, experiments, sweeps."""
