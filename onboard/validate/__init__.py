"""`onboard validate`: Great Expectations suites generated from the tracking plan, run on raw data.

- `config`   tolerated shares and severities (expectations/validation.yml), value sets
- `suites`   the GX Core 1.x suites in expectations/, generated from the plan and config
- `gx`       the one place great_expectations is imported (analytics off, ephemeral context)
- `source`   the rows to validate, in chunks; events judged by staging's own dbt macros
- `volume`   event volume per type and day against the median of the previous days
- `runner`   GX validation of each chunk and the combined counts per expectation
- `outcome`  what a run found: per expectation, per suite, for the run
- `docs`     GX Data Docs of a run
- `runs`     the validation_runs table: windows, acceptance, and the sync gate
- `summary`  the readable summary printed by `onboard validate`

Entry points: `runner.validate`, `runs.accept_run`, `runs.require_passing_validation`;
nothing is imported here, so `python -m onboard.validate.suites` stays light.
"""
