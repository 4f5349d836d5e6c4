"""Issue 7's benchmark harness: `python benchmarks/run.py` (what `make bench` runs); see docs/performance.md."""
