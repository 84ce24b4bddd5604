"""complyd benchmarks: `python -m bench` runs them all and prints figures with baselines."""
