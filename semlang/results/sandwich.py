"""Fit -> sandwich (robust) and first-order covariance matrices of the estimates, by the
standard-error type the fit options name (lavaan's ``se=``).

Input: a :class:`~semlang.results.fit.Fit` and a :class:`~semlang.options.StandardErrors`.
Output: the covariance matrix of φ̂. One registry (:data:`VCOV`) maps each type to the function
that computes it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from semlang.options import StandardErrors


def _huber_white(fit) -> np.ndarray:
    return fit.family.huber_white_vcov(fit)  # casewise or the clusters' scores


def _robust_sem(fit) -> np.ndarray:
    if hasattr(fit.family, "robust_sem_vcov"):  # a family with statistics of its own
        return fit.family.robust_sem_vcov(fit)
    from semlang.results.robust_sem import robust_sem_vcov

    return robust_sem_vcov(fit)


def _first_order(fit) -> np.ndarray:
    from semlang.results.robust_sem import first_order_vcov

    return first_order_vcov(fit)


# with clusters the scores and Γ are the clusters' sums (results.robust's per-group data)
VCOV: dict[StandardErrors, Callable[..., np.ndarray]] = {
    StandardErrors.ROBUST_HUBER_WHITE: _huber_white,
    StandardErrors.ROBUST_SEM: _robust_sem,
    StandardErrors.FIRST_ORDER: _first_order,
    StandardErrors.ROBUST_CLUSTER: _huber_white,
    StandardErrors.ROBUST_CLUSTER_SEM: _robust_sem,
}


def vcov_phi(fit, se: StandardErrors) -> np.ndarray:
    """The covariance matrix of φ̂ for sandwich and first-order standard errors of type ``se``
    (the standard, bootstrap and no standard errors are the Fit's own)."""
    return VCOV[se](fit)
