"""Starting values of efa blocks: the loadings of the unrotated model start at the factor
extraction of the indicators' correlations (as lavaan), scaled to the indicators' variances."""

from __future__ import annotations

import numpy as np
import pytest

import semlang
from semlang.efa.extraction import extract
from semlang.syntax.ast import Op

NAMES = [f"x{i}" for i in range(1, 10)]
MODEL = 'efa("b")*f1 + efa("b")*f2 + efa("b")*f3 =~ ' + " + ".join(NAMES)


def start_and_expected(fit, method):
    unrotated = fit.unrotated
    theta0 = unrotated.model.space.theta(unrotated.estimation.phi_start)
    cov = np.asarray(unrotated.estimation.objective.discrepancies[0].h1_cov, dtype=float)
    sd = np.sqrt(np.diag(cov))
    result = extract(cov / np.outer(sd, sd), 3, method)
    loadings, residuals = sd[:, None] * result.loadings, sd**2 * result.uniquenesses
    start, expected = [], []
    for row in unrotated.model.table.rows:
        if not row.is_free:
            continue
        if row.op is Op.MEASURED:
            start.append(theta0[row.free - 1])
            expected.append(loadings[NAMES.index(row.rhs), int(row.lhs[1:]) - 1])
        elif row.op is Op.COVARIANCE and row.lhs == row.rhs and row.lhs in NAMES:
            start.append(theta0[row.free - 1])
            expected.append(residuals[NAMES.index(row.lhs)])
    return np.array(start), np.array(expected)


@pytest.mark.parametrize("estimator, method", [("ML", "ML"), ("ULS", "ULS")])
def test_efa_block_starts_at_the_extraction(estimator, method):
    data = semlang.datasets.load("HolzingerSwineford1939")
    fit = semlang.sem(MODEL, data, estimator=estimator, rotation="geomin")
    start, expected = start_and_expected(fit, method)
    assert len(start) == 9 * 3 - 3 + 9  # the echelon form's free loadings, residual variances
    np.testing.assert_allclose(start, expected, rtol=1e-10, atol=1e-12)
