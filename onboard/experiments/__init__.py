"""`onboard experiments`: the readout of holdout and A/B experiments, with measured lift and ROI.

- `stats`    pure: rate and mean comparisons (statsmodels, scipy), SRM, MDD, verdict
- `readout`  pure: one experiment's per-customer rows -> one row per arm x metric
- `roi`      pure: the ROI estimate (a range) of an automated arm over its holdout
- `source`   reads the per-customer rows and the ROI inputs from the warehouse
- `store`    writes experiments.experiment_results and experiments.experiment_roi
- `runner`   `run_readout(target, only, overrides)`: read -> compute -> write
- `summary`  the table and summary lines people read, and the JSON

Meaning of every figure: docs/definitions.md#experiments-readout.
"""

from onboard.experiments.runner import ReadoutResult, run_readout
from onboard.experiments.summary import summary_lines, to_json

__all__ = ["ReadoutResult", "run_readout", "summary_lines", "to_json"]
