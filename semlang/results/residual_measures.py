"""Residual-based fit measures as pure functions, with the definitions of lavaan's
``fitMeasures()``: RMR, the SRMR variants (Bentler's, Mplus'), CRMR and GFI/AGFI/PGFI.

Input: per group the unrestricted (sample or EM) moments, the model-implied ones and the group's
size; for GFI the moment vectors and their weight matrix. Output: plain floats. Nothing here
knows about models or fits.

Conventions that follow lavaan:

* a residual of a covariance or mean whose raw value is below 1e-5 in absolute size is left
  unstandardized;
* per-group values are averaged with weights ``n_g / N``;
* "nomean" variants leave the mean residuals out; without a mean structure they equal the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

__all__ = [
    "agfi",
    "gfi",
    "pgfi",
    "residual_summary",
    "residuals_cor_bentler",
    "residuals_cor_bollen",
    "srmr",
    "srmr_mplus",
    "srmr_twolevel",
]

Block = tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None, float]
"""One group: (sample_cov, sample_mean, implied_cov, implied_mean, nobs); the means are None
without a mean structure."""

TwoLevelGroup = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]
"""One group for :func:`srmr_twolevel`: (S_within, Sigma_within, S_between, Sigma_between, n)."""

GfiBlock = tuple[np.ndarray, np.ndarray, Any, float]  # weight: matrix, diagonal or callable
"""One group for :func:`gfi`: (observed moments, implied moments, weight matrix, nobs)."""

_NEAR_ZERO = 1e-5  # moments smaller than this are left unstandardized, as lavaan does


@cache
def _tril_indices(p: int, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``np.tril_indices(p, k)``, made once per (p, k) (read-only)."""
    rows, cols = np.tril_indices(p, k)
    rows.flags.writeable = cols.flags.writeable = False
    return rows, cols


def _standardize(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """values * scale, except entries with |value| < 1e-5, which lavaan leaves as they are."""
    return np.where(np.abs(values) < _NEAR_ZERO, values, values * scale)


def residuals_cor_bentler(
    sample_cov: np.ndarray,
    sample_mean: np.ndarray | None,
    implied_cov: np.ndarray,
    implied_mean: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Bentler's standardized residuals (lavaan's ``type = "cor.bentler"``) of one group.

    Sample and implied moments are both divided by the sample standard deviations (covariances
    by ``sd_i sd_j``, means by ``sd_i``) and then subtracted. Returns the covariance residual
    matrix and the mean residual vector (None without a mean structure).
    """
    sample_cov = np.asarray(sample_cov, dtype=float)
    variances = np.diag(sample_cov).copy()
    variances[~np.isfinite(variances) | (variances < np.finfo(float).eps)] = np.nan
    inv_sd = 1.0 / np.sqrt(variances)
    cov_scale = np.outer(inv_sd, inv_sd)
    cov_res = _standardize(sample_cov, cov_scale) - _standardize(
        np.asarray(implied_cov, dtype=float), cov_scale
    )
    if implied_mean is None:
        return cov_res, None
    if sample_mean is None:
        raise ValueError("implied_mean given without sample_mean")
    mean_res = _standardize(np.asarray(sample_mean, dtype=float), inv_sd) - _standardize(
        np.asarray(implied_mean, dtype=float), inv_sd
    )
    return cov_res, mean_res


def _rms_lower(matrix: np.ndarray, extra: np.ndarray | None = None) -> float:
    """Root mean square over the lower triangle (with diagonal) and the ``extra`` entries."""
    values = matrix[_tril_indices(matrix.shape[0])]
    if extra is not None:
        values = np.concatenate([values, extra])
    return float(np.sqrt(np.mean(values**2)))


def srmr(blocks: Sequence[Block]) -> float:
    """Standardized root mean square residual, lavaan's ``srmr`` (Bentler's definition).

    Per group: the root mean square of the Bentler residuals of the p(p+1)/2 covariances and,
    when the model has a mean structure (``implied_mean`` not None), of the p means too.
    Groups are averaged with weights n_g / N.
    """
    values, weights = [], []
    for sample_cov, sample_mean, implied_cov, implied_mean, nobs in blocks:
        cov_res, mean_res = residuals_cor_bentler(
            sample_cov, sample_mean, implied_cov, implied_mean
        )
        values.append(_rms_lower(cov_res, mean_res))
        weights.append(nobs)
    weights_arr = np.asarray(weights, dtype=float)
    return float(np.sum(weights_arr / weights_arr.sum() * np.asarray(values)))


def _cov2cor(matrix: np.ndarray) -> np.ndarray:
    inv_sd = 1.0 / np.sqrt(np.diag(matrix))
    return matrix * np.outer(inv_sd, inv_sd)


def _force_pd(matrix: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Raise eigenvalues below ``tol`` times the largest one to that floor."""
    if matrix.shape[0] == 1:
        return np.maximum(matrix, tol)
    eigval, eigvec = np.linalg.eigh(matrix)
    largest = abs(eigval[-1])
    eigval = np.where(eigval / largest < tol, tol * largest, eigval)
    return (eigvec * eigval) @ eigvec.T


def srmr_twolevel(groups: Sequence[TwoLevelGroup]) -> tuple[float, float, float]:
    """SRMR of a two-level model as lavaan computes it: (srmr, srmr_within, srmr_between).

    Per level the residuals are differences of correlation matrices (the unrestricted-model
    estimate minus the implied one, each turned into correlations by its own standard
    deviations; the implied between matrix first forced positive definite), averaged over the
    p(p+1)/2 lower-triangle entries; no mean residuals. Per-level values are averaged over groups
    with weights n_g / N, and ``srmr`` is the *sum* of the within and between values.
    """
    within, between, weights = [], [], []
    for s_within, sigma_within, s_between, sigma_between, nobs in groups:
        r_within = _cov2cor(np.asarray(s_within, float)) - _cov2cor(np.asarray(sigma_within, float))
        sigma_between = _force_pd(np.asarray(sigma_between, float))
        if np.all(np.diag(sigma_between) > 0):
            r_between = _cov2cor(np.asarray(s_between, float)) - _cov2cor(sigma_between)
        else:
            r_between = np.full(sigma_between.shape, np.nan)
        within.append(_rms_lower(r_within))
        between.append(_rms_lower(r_between))
        weights.append(nobs)
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    srmr_w = float(w @ np.asarray(within))
    srmr_b = float(w @ np.asarray(between))
    return (srmr_w + srmr_b, srmr_w, srmr_b)


def _inverse_sd(cov: np.ndarray) -> np.ndarray:
    """1/sqrt(diag(cov)), NaN where a variance is not finite or below machine epsilon."""
    variances = np.diag(np.asarray(cov, dtype=float)).copy()
    variances[~np.isfinite(variances) | (variances < np.finfo(float).eps)] = np.nan
    return 1.0 / np.sqrt(variances)


def residuals_cor_bollen(
    sample_cov: np.ndarray,
    sample_mean: np.ndarray | None,
    implied_cov: np.ndarray,
    implied_mean: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Bollen's correlation residuals (lavaan's ``type = "cor.bollen"``) of one group.

    Covariances: the sample moments scaled by the sample standard deviations minus the implied
    ones scaled by the *implied* standard deviations (a difference of correlation matrices,
    zero on the diagonal). Means: both divided by the sample standard deviations.
    """
    sample_sd, implied_sd = _inverse_sd(sample_cov), _inverse_sd(implied_cov)
    cov_res = _standardize(np.asarray(sample_cov, float), np.outer(sample_sd, sample_sd))
    cov_res = cov_res - _standardize(
        np.asarray(implied_cov, float), np.outer(implied_sd, implied_sd)
    )
    if implied_mean is None or sample_mean is None:
        return cov_res, None
    mean_res = _standardize(np.asarray(sample_mean, float), sample_sd) - _standardize(
        np.asarray(implied_mean, float), sample_sd
    )
    return cov_res, mean_res


def _rms(values: np.ndarray, count: int) -> float:
    """sqrt(sum(values²) / count), lavaan's root mean square with its own denominator."""
    return float(np.sqrt(np.sum(np.asarray(values) ** 2) / count)) if count > 0 else 0.0


def _rms_pair(cov_res: np.ndarray, mean_res: np.ndarray | None, drop: int) -> tuple[float, float]:
    """(total, nomean): the RMS over vech(cov_res) (and the means), over (count - drop)."""
    p = cov_res.shape[0]
    vech = cov_res[_tril_indices(p)]
    nomean = _rms(vech, vech.size - drop)
    if mean_res is None:
        return nomean, nomean
    return _rms(np.concatenate([mean_res, vech]), vech.size + p - drop), nomean


def srmr_mplus(block: Block) -> tuple[float, float]:
    """Mplus' SRMR of one group as lavaan computes it: (srmr_mplus, srmr_mplus_nomean).

    Residuals: the off-diagonal elements of cor(S) − cor(Σ̂), the relative variance residuals
    (s_ii − σ̂_ii)/s_ii and, with a mean structure, the mean residuals m_i/√s_ii − μ̂_i/√σ̂_ii;
    the sum of their squares is divided by p(p+1)/2 (+ p with means).
    """
    sample_cov, sample_mean, implied_cov, implied_mean, _ = block
    s, sigma = np.asarray(sample_cov, float), np.asarray(implied_cov, float)
    p = s.shape[0]
    r = _cov2cor(s) - _cov2cor(sigma)
    total = np.sum(r[_tril_indices(p, -1)] ** 2)
    total += np.sum(((np.diag(s) - np.diag(sigma)) / np.diag(s)) ** 2)
    nomean = float(np.sqrt(total / (p * (p + 1) / 2)))
    if implied_mean is None or sample_mean is None:
        return nomean, nomean
    means = np.asarray(sample_mean) / np.sqrt(np.diag(s))
    means = means - np.asarray(implied_mean) / np.sqrt(np.diag(sigma))
    return float(np.sqrt((total + np.sum(means**2)) / (p * (p + 1) / 2 + p))), nomean


def residual_summary(blocks: Sequence[Block]) -> dict[str, float]:
    """lavaan's residual-based measures, each averaged over groups with weights n_g / N.

    * ``rmr``: RMS of the raw residuals S − Σ̂ (vech, diagonal included) and m − μ̂;
    * ``srmr_bentler`` (= ``srmr``): the same of Bentler's residuals
      (:func:`residuals_cor_bentler`);
    * ``crmr``: the same of Bollen's correlation residuals (:func:`residuals_cor_bollen`), over
      p fewer elements (the diagonal, zero by construction, is not counted);
    * ``srmr_mplus``: :func:`srmr_mplus`;

    each with a ``_nomean`` twin over the covariance residuals only (the same value without a
    mean structure, i.e. when the implied means are None).
    """
    names = ("rmr", "srmr_bentler", "crmr", "srmr_mplus")
    per_group: dict[str, list[float]] = {}
    weights = []
    for block in blocks:
        sample_cov, sample_mean, implied_cov, implied_mean, nobs = block
        raw_cov = np.asarray(sample_cov, float) - np.asarray(implied_cov, float)
        raw_mean = None
        if implied_mean is not None and sample_mean is not None:
            raw_mean = np.asarray(sample_mean, float) - np.asarray(implied_mean, float)
        moments = (sample_cov, sample_mean, implied_cov, implied_mean)
        values = (
            _rms_pair(raw_cov, raw_mean, 0),
            _rms_pair(*residuals_cor_bentler(*moments), 0),
            _rms_pair(*residuals_cor_bollen(*moments), np.asarray(sample_cov).shape[0]),
            srmr_mplus(block),
        )
        for name, (total, nomean) in zip(names, values, strict=True):
            per_group.setdefault(name, []).append(total)
            per_group.setdefault(f"{name}_nomean", []).append(nomean)
        weights.append(nobs)
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    out = {key: float(w @ np.asarray(values)) for key, values in per_group.items()}
    out["srmr"] = out["srmr_bentler"]
    order = ("rmr", "rmr_nomean", "srmr", "srmr_bentler", "srmr_bentler_nomean", "crmr",
             "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean")  # fmt: skip
    return {key: out[key] for key in order}


# --------------------------------------------------------------------------- GFI family


def gfi(blocks: Sequence[GfiBlock]) -> float:
    """Goodness-of-fit index (Jöreskog-Sörbom; lavaan's weighted form).

    Per group ``1 − (s − σ̂)' W (s − σ̂) / (s' W s)`` with s the unrestricted moments (means
    first when the model has a mean structure, then vech of the covariances), σ̂ the implied
    ones and W the estimator's weight matrix (for ML the expected information of the moments at
    the implied Σ̂: Σ̂⁻¹ for the means and ½ D'(Σ̂⁻¹ ⊗ Σ̂⁻¹)D for the covariances); groups are
    averaged with weights n_g / N.
    """
    values, weights = [], []
    for observed, implied, weight, nobs in blocks:
        observed = np.asarray(observed, dtype=float)
        diff = observed - np.asarray(implied, dtype=float)
        values.append(1.0 - _quadratic(weight, diff) / _quadratic(weight, observed))
        weights.append(nobs)
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    return float(w @ np.asarray(values))


def _quadratic(weight: Any, vector: np.ndarray) -> float:
    """vᵀ W v for W a matrix, a diagonal given as a 1-d array, or a callable quadratic form."""
    if callable(weight):
        return float(weight(vector))
    weight = np.asarray(weight, dtype=float)
    if weight.ndim == 1:
        return float(vector**2 @ weight)
    return float(vector @ weight @ vector)


def agfi(gfi_value: float, nel: int, df: float) -> float:
    """Adjusted GFI ``1 − (nel/df)(1 − GFI)``, nel the number of sample moments of all groups
    (means included with a mean structure); 1 when df == 0."""
    if not all(np.isfinite(v) for v in (gfi_value, nel, df)):
        return float("nan")
    return 1.0 - (nel / df) * (1.0 - gfi_value) if df > 0 else 1.0


def pgfi(gfi_value: float, nel: int, df: float) -> float:
    """Parsimony GFI ``(df/nel) GFI``; nan when there are no sample moments."""
    if not all(np.isfinite(v) for v in (gfi_value, nel, df)) or nel == 0:
        return float("nan")
    return (df / nel) * gfi_value
