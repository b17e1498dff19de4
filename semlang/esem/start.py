"""Starting values of the loadings of efa blocks, as lavaan starts an efa model.

Input: the compiled model (unrotated: each efa block in lavaan's echelon identification), each
block's sample covariances (for ordered indicators the polychoric correlations) and θ₀ of the
general start (:mod:`semlang.estimate.start`). Output: θ₀ with every efa block's free loadings
(and its indicators' free residual variances) from the factor extraction of the indicators'
correlations (:func:`semlang.efa.extraction.extract`: ML for a likelihood estimator, else ULS;
echelon form, the k-th factor's k-th loading positive), scaled to each indicator's variance: a
start close to the minimum, so the optimizer takes a few iterations and keeps the factors'
orientations. A user's ``start()`` wins.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from semlang.syntax.ast import Op


def efa_start(model, covs, theta: np.ndarray, method: str = "ML") -> np.ndarray:
    """θ₀ with the efa blocks' loadings and residual variances from a ``method`` (ML or ULS)
    extraction."""
    from semlang.efa.extraction import extract

    out = theta.copy()
    for layout, cov in zip(model.layouts, covs, strict=True):
        rows = model.table.block_rows(layout.block)
        observed = {name: k for k, name in enumerate(layout.observed)}
        for efa in model.table.efa_sets:
            if efa.level != layout.level or not all(v in observed for v in efa.indicators):
                continue
            index = [observed[v] for v in efa.indicators]
            sub = np.asarray(cov, dtype=float)[np.ix_(index, index)]
            sd = np.sqrt(np.diag(sub))
            if not np.all(np.isfinite(sub)) or np.any(sd <= 0) or len(efa.factors) >= len(index):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = extract(sub / np.outer(sd, sd), len(efa.factors), method)
            if not np.all(np.isfinite(result.loadings)):
                continue
            _fill(out, rows, efa, sd[:, None] * result.loadings, sd**2 * result.uniquenesses)
    for row in model.table.parameters:
        if row.is_free and not math.isnan(row.start):
            out[row.free - 1] = row.start
    return out


def _fill(theta: np.ndarray, rows, efa, loadings: np.ndarray, residuals: np.ndarray) -> None:
    """The free loadings of the block and its indicators' free residual variances."""
    item = {v: i for i, v in enumerate(efa.indicators)}
    factor = {f: k for k, f in enumerate(efa.factors)}
    for row in rows:
        if not row.is_free:
            continue
        if row.op is Op.MEASURED and row.lhs in factor and row.rhs in item:
            theta[row.free - 1] = loadings[item[row.rhs], factor[row.lhs]]
        elif row.op is Op.COVARIANCE and row.lhs == row.rhs and row.lhs in item:
            theta[row.free - 1] = residuals[item[row.lhs]]
