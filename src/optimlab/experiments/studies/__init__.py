"""Published studies re-run with optimlab: their sweeps, verdicts and generated pages."""
