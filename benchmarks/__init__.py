"""Benchmarks of the pipeline and the sync at scale; not part of the shipped packages.

`python -m benchmarks pipeline` (make bench, bench-10m, bench-spark) and `python -m benchmarks
sync` (make bench-sync), run from the repo root. They measure the `onboard` CLI as a user
runs it and write their tables into docs/benchmarks.md. They may import the test fakes
(tests/fakes) and anything of onboard and sync; nothing shipped imports them.
"""
