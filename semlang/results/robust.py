"""Fit -> robust (Huber-White sandwich) covariance of the estimates and the Yuan-Bentler scaled
test statistic: lavaan's ``estimator = "MLR"`` (``se = "robust.huber.white"``,
``test = "yuan.bentler.mplus"``), with complete data and under FIML.

Input: a :class:`~semlang.results.fit.Fit`. Output: :func:`robust_vcov_phi` (the covariance
matrix of φ̂) and :func:`scaled_test` (the scaled χ², its scaling factor and the scaled and
robust fit measures, under lavaan's names in snake_case).

What is computed, as lavaan 0.6 does it (moments m = (μ, vech Σ) per group, μ only with a mean
structure; Δ_g = dm_g/dφ; f_g = n_g/N; everything per observation):

* bread E: the information of the options (lavaan's default with robust standard errors:
  "observed", the Hessian of the discrepancy; "expected" when asked), inverted on the null space
  of the active constraints;
* meat B0 = Σ_g f_g Δ_gᵀ B1_g Δ_g with B1_g the cross-product of the casewise scores at the
  model-implied moments ("structured"); without a mean structure the scores are taken at the
  sample means and only their vech Σ part counts;
* vcov(φ̂) = E⁻¹ B0 E⁻¹ / N (N − G with likelihood = "wishart", whose sample moments carry
  the n_g − 1 covariance matrices: the scores, the h1 information and Γ-terms are taken there,
  and the RMSEAs use N − G, as lavaan does);
* Yuan-Bentler (Mplus variant): tr(UΓ) = Σ_g [tr(A1_g⁻¹ B1*_g) − f_g tr(E⁻¹ Δ_gᵀ B1_g Δ_g)] with
  A1_g the information of the unrestricted (h1) model at its estimates ("unstructured") and
  B1*_g the first-order information there: with complete data A1 Γ A1, Γ the sample covariance
  of the moments (with fixed.x covariates: of their deviations from the moments fitted by the
  covariates' regression), under FIML the cross-product of the casewise scores at the EM
  estimates. The moments of the fixed.x covariates among themselves are left out. The scaling
  factor is c = tr(UΓ)/df and the scaled statistic χ²/c. The baseline (independence) model gets
  its own factor from the same traces with its parameters (variances and means, and the
  covariates' block when fixed.x is off), for the scaled CFI and TLI.
* robust CFI/TLI/RMSEA (Brosseau-Savalei and Savalei): X² − c·df in place of X² − df; under
  FIML lavaan's FIML-corrected version (Savalei's FIML-C, lavaan's "V3"), whose X² compares the
  model with the EM moments as if they were complete data.

Large complete-data models get the meat and the traces from their rows instead of the moments ×
moments matrices B1, A1 and Γ: :mod:`semlang.results.robust_structured`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from semlang.estimate.fiml import score_slices
from semlang.estimate.missing import (
    MissingPatterns,
    casewise_scores,
    h1_information_expected,
    h1_information_observed,
    independence_model,
    vech_indices,
)
from semlang.options import Information
from semlang.results import inference, measures, robust_measures, robust_structured

__all__ = [
    "Traces",
    "cluster_sums",
    "cross_product",
    "robust_vcov_phi",
    "scaled_from_traces",
    "scaled_test",
]


# --------------------------------------------------------------------------- per-group parts


@dataclass(frozen=True)
class _Group:
    """What the robust computations need of one group."""

    weight: float  # n_g / N
    source: object  # the group's discrepancy, whose patterns are the rows used
    raw: np.ndarray  # n_g x p
    fiml: bool
    meanstructure: bool
    x_index: np.ndarray  # positions of the fixed.x covariates among the observed variables
    h1_mean: np.ndarray  # sample or EM moments
    h1_cov: np.ndarray
    sigma: np.ndarray  # model-implied moments
    mu: np.ndarray
    implied: object  # the model-implied moments (their RAM entry vectors give Δ)
    jacobian: np.ndarray  # dθ/dφ
    cluster: np.ndarray | None = None  # each used row's cluster (codes 0..C-1), or None
    # matrices computed once per fit at the implied or the unrestricted moments (see _memo)
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def p(self) -> int:
        return self.raw.shape[1]

    @property
    def patterns(self) -> MissingPatterns:
        """The rows used (one pattern with complete data), grouped when first asked for: Γ and
        the weights of the Satorra-Bentler family need the rows only."""
        return self.source.patterns  # type: ignore[attr-defined]

    @property
    def delta(self) -> np.ndarray:
        """Δ = dm/dφ, (moments, n_phi), made when first asked for (large models' sandwich and
        traces do without it: :mod:`semlang.results.robust_structured`)."""
        if "delta" not in self.memo:
            n_theta = self.jacobian.shape[0]
            delta_theta = _moment_derivatives(self.implied, n_theta, self.meanstructure)
            self.memo["delta"] = delta_theta @ self.jacobian
        return self.memo["delta"]

    def moment_slice(self, matrix: np.ndarray) -> np.ndarray:
        """Drop the μ rows and columns of a (μ, vech Σ) matrix without a mean structure."""
        return matrix if self.meanstructure else matrix[self.p :, self.p :]


def _groups(fit) -> tuple[_Group, ...]:
    """The fit's per-group data (made once per fit: :attr:`Fit.moment_groups`)."""
    return fit.moment_groups


def _memo(group: _Group, name: str, sigma: np.ndarray, kind, compute) -> np.ndarray:
    """``compute()`` once per group for the implied or the unrestricted moments (other moments,
    such as the baseline's, are computed each time)."""
    if sigma is group.sigma:
        key = (name, "implied", kind)
    elif sigma is group.h1_cov:
        key = (name, "h1", kind)
    else:
        return compute()
    if key not in group.memo:
        group.memo[key] = compute()
    return group.memo[key]


def moment_groups(fit) -> tuple[_Group, ...]:
    """Per group: Δ (dm/dφ), the rows, the unrestricted and the implied moments, the fixed.x
    covariates and the clusters."""
    phi = fit.estimation.phi
    J = fit.model.space.jacobian(phi)
    meanstructure = fit.table.meanstructure
    out = []
    fiml = fit.table.options.missing.is_fiml
    parts = zip(
        fit.model.layouts, fit.table.blocks, fit.sample.groups, fit.implied,
        fit.estimation.objective.discrepancies, strict=True,
    )  # fmt: skip
    for layout, block, group, moments, discrepancy in parts:
        names = list(layout.observed)
        exogenous = block.observed_exogenous if fit.table.options.fixed_x else ()
        x_index = np.array([names.index(v) for v in exogenous], dtype=np.intp)
        h1_mean, h1_cov = discrepancy.h1_mean, discrepancy.h1_cov
        cluster = getattr(group, "cluster", None)
        if cluster is not None and np.isnan(group.raw).any():  # (else every row is used)
            cluster = cluster[discrepancy.patterns.used_rows]
        out.append(
            _Group(
                weight=group.nobs / fit.nobs, source=discrepancy, raw=group.raw, fiml=fiml,
                meanstructure=meanstructure, x_index=x_index, h1_mean=h1_mean, h1_cov=h1_cov,
                sigma=moments.sigma, mu=moments.mu if meanstructure else h1_mean,
                implied=moments, jacobian=J, cluster=cluster,
            )
        )  # fmt: skip
    return tuple(out)


def _moment_derivatives(moments, n_theta: int, meanstructure: bool) -> np.ndarray:
    """dm/dθ (moments, n_theta), m = (μ, vech Σ) (μ only with a mean structure), from each free
    RAM entry's dΣ = a bᵀ + b aᵀ and dμ = c, without the n_theta × p × p array."""
    Pa, Pb, Pc, index = moments.entry_vectors()
    rows, cols = vech_indices(Pa.shape[1])
    entries = Pa[:, rows] * Pb[:, cols] + Pb[:, rows] * Pa[:, cols]
    if meanstructure:
        entries = np.hstack([Pc, entries])
    out = np.zeros((n_theta, entries.shape[1]))
    np.add.at(out, index, entries)
    return out.T


def _scores(group: _Group, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Casewise scores of the rows in (μ, vech Σ), μ columns dropped without a mean structure."""
    scores = casewise_scores(group.patterns, sigma, mu)
    return scores if group.meanstructure else scores[:, group.p :]


def cluster_sums(group: _Group, values: np.ndarray) -> np.ndarray:
    """The rows of casewise ``values`` summed within each cluster (the rows themselves when the
    data have no clusters)."""
    if group.cluster is None:
        return values
    if "cluster_runs" not in group.memo:
        group.memo["cluster_runs"] = _cluster_runs(group.cluster)
    order, starts, codes = group.memo["cluster_runs"]
    out = np.zeros((int(codes[-1]) + 1, values.shape[1]))
    if values.shape[1]:
        out[codes] = np.add.reduceat(values if order is None else values[order], starts, axis=0)
    return out


def _cluster_runs(cluster: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """The rows sorted by cluster (in row order within one; None when they are already), where
    each cluster's run of them starts, and its code (a code without rows keeps a row of zeros
    in the sums)."""
    order = np.argsort(cluster, kind="stable")
    codes = cluster[order]
    starts = np.flatnonzero(np.r_[True, np.diff(codes) != 0])
    in_order = bool(np.all(order == np.arange(len(order))))
    return None if in_order else order, starts, codes[starts]


def cross_product(group: _Group, values: np.ndarray) -> np.ndarray:
    """Σ v vᵀ / n over the rows of casewise ``values`` (n rows); with clusters, over the
    clusters' sums of them, times C/(C−1) for C clusters (lavaan's small-sample factor, in the
    first-order information and in Γ alike)."""
    sums = cluster_sums(group, values)
    out = sums.T @ sums / values.shape[0]
    if group.cluster is not None:
        out *= sums.shape[0] / (sums.shape[0] - 1)
    return out


def _first_order(group: _Group, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """The first-order (outer product of the scores) information of the moments at (Σ, μ)."""
    return _memo(group, "first_order", sigma, None,
                 lambda: _score_cross_product(group, sigma, mu))  # fmt: skip


def _score_cross_product(group: _Group, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """:func:`cross_product` of the casewise scores; of incomplete data without clusters summed
    slice by slice of the rows, never holding the rows x moments scores at once."""
    if group.cluster is not None or group.patterns.complete:
        return cross_product(group, _scores(group, sigma, mu))
    start = 0 if group.meanstructure else group.p
    width = group.p + group.p * (group.p + 1) // 2 - start
    out = np.zeros((width, width))
    for _, scores in score_slices(group.patterns, sigma, mu):
        part = scores[:, start:]
        out += part.T @ part
    return out / group.patterns.nobs


def _h1_information(group: _Group, sigma, mu, kind: Information) -> np.ndarray:
    """Unit information of the moments at (Σ, μ), observed or expected."""

    def compute() -> np.ndarray:
        if kind is Information.OBSERVED:
            saturated = getattr(group.source, "saturated", None)  # (FIML: made by its fit)
            known = getattr(saturated, "information", None)
            if known is not None and sigma is saturated.cov:  # type: ignore[union-attr]
                return group.moment_slice(known)
            return group.moment_slice(h1_information_observed(group.patterns, sigma, mu))
        return group.moment_slice(h1_information_expected(group.patterns, sigma))

    return _memo(group, "h1_information", sigma, kind, compute)


def _not_x(group: _Group) -> np.ndarray:
    """Mask over the moments: False for the fixed.x covariates' means and their (co)variances."""
    is_x = np.zeros(group.p, dtype=bool)
    is_x[group.x_index] = True
    rows, cols = vech_indices(group.p)
    keep = ~(is_x[rows] & is_x[cols])
    return np.concatenate([~is_x, keep]) if group.meanstructure else keep


# --------------------------------------------------------------------------- sandwich


def _bread_inverse(fit) -> np.ndarray:
    """E⁻¹ (made once per fit: :attr:`Fit.sandwich_bread`)."""
    return fit.sandwich_bread


def bread_inverse(fit) -> np.ndarray:
    """E⁻¹ in φ (per observation), on the null space of the active constraints; NaN if singular."""
    objective, phi = fit.estimation.objective, fit.estimation.phi
    info = inference.information_per_observation(objective, phi, fit.options.information)
    active = inference.active_constraint_rows(fit.model.space, phi)
    return fit.nobs * inference.vcov_from_information(info, fit.nobs, active)


def _meat_by_group(groups: Sequence[_Group]) -> list[np.ndarray]:
    """Δ_gᵀ B1_g Δ_g per group, B1_g at the model-implied moments (made once per fit)."""
    return [_meat(g) for g in groups]


def _meat(group: _Group) -> np.ndarray:
    if "meat" not in group.memo:
        if robust_structured.applies(group, mlr=True):
            group.memo["meat"] = robust_structured.score_meat(group)
        else:
            b1 = _first_order(group, group.sigma, group.mu)
            group.memo["meat"] = group.delta.T @ b1 @ group.delta
    return group.memo["meat"]


def robust_vcov_phi(fit) -> np.ndarray:
    """The Huber-White sandwich E⁻¹ B0 E⁻¹ / N (N − G with the Wishart likelihood): lavaan's
    ``se = "robust.huber.white"`` (and, the scores summed within clusters, ``"robust.cluster"``)."""
    groups = _groups(fit)
    e_inv = _bread_inverse(fit)
    meat = np.sum(
        [g.weight * b for g, b in zip(groups, _meat_by_group(groups), strict=True)], axis=0
    )
    return e_inv @ meat @ e_inv / fit.inference_nobs


# --------------------------------------------------------------------------- traces


def _gamma(group: _Group) -> np.ndarray:
    """Γ of the group (made once per fit; see :func:`_adf_gamma`)."""
    if "gamma" not in group.memo:
        group.memo["gamma"] = _adf_gamma(group)
    return group.memo["gamma"]


def _adf_gamma(group: _Group) -> np.ndarray:
    """Sample covariance (divisor n) of the moments' contributions; with fixed.x covariates, of
    their deviations from the contributions of the values fitted by the covariates; with
    clusters, of the clusters' sums of the centred contributions."""
    y = group.raw
    n, p = y.shape
    if not group.x_index.size:  # the fitted values are the means: their contributions vanish
        z = _contributions(y, group.meanstructure)
        z -= z.mean(axis=0)
        return cross_product(group, z)
    design = np.hstack([np.ones((n, 1)), y[:, group.x_index]])
    others = np.setdiff1d(np.arange(p), group.x_index)
    fitted = y.copy()
    coef, *_ = np.linalg.lstsq(design, y[:, others], rcond=None)
    fitted[:, others] = design @ coef
    z = _contributions(y, group.meanstructure, less=fitted)
    z -= z.mean(axis=0)
    return cross_product(group, z)


def _contributions(y: np.ndarray, meanstructure: bool, less: np.ndarray | None = None):
    """The rows' moment contributions (y, and the products of the centred values), less those
    of the rows of ``less`` when given; built in place from the transposed data (contiguous
    rows, no temporary of their size) and returned as a rows x moments view."""
    n, p = y.shape
    centered = np.ascontiguousarray((y - y.mean(axis=0)).T)
    other = None if less is None else np.ascontiguousarray((less - less.mean(axis=0)).T)
    k = p if meanstructure else 0
    out = np.empty((k + p * (p + 1) // 2, n))
    if meanstructure:
        out[:k] = y.T
        if less is not None:
            out[:k] -= less.T
    for j in range(p):  # vech's column j: the products of variables j..p-1 with variable j
        block = out[k : k + p - j]
        np.multiply(centered[j:], centered[j], out=block)
        if other is not None:
            block -= other[j:] * other[j]
        k += p - j
    return out.T


def _trace_h1(group: _Group, kind: Information) -> tuple[float, int]:
    """tr(A1⁻¹ B1) of the unrestricted model over the moments that are not fixed.x ones.

    With complete data A1 is taken at the sample moments as the data's own moments, where the
    observed information is the expected one; with likelihood='wishart' those moments hold the
    n − 1 covariance matrix (as lavaan's sample statistics), so A1 is the expected information
    there and tr(A1 Γ) shrinks by ((n − 1)/n)² against the normal likelihood's."""
    if robust_structured.applies(group, mlr=True):
        return robust_structured.h1_trace(group)
    if not group.fiml:
        kind = Information.EXPECTED
    a1 = _h1_information(group, group.h1_cov, group.h1_mean, kind)
    keep = _not_x(group) & (np.abs(np.diag(a1)) > 0)
    a1 = a1[np.ix_(keep, keep)]
    if group.fiml:
        b1 = _first_order(group, group.h1_cov, group.h1_mean)[np.ix_(keep, keep)]
        return float(np.trace(np.linalg.solve(a1, b1))), int(keep.sum())
    gamma = _gamma(group)[np.ix_(keep, keep)]
    return float(np.sum(a1 * gamma.T)), int(keep.sum())


def _test_bread_inverse(fit, groups: Sequence[_Group]) -> np.ndarray:
    """E⁻¹ of the scaled test: the bread's, or with lavaan's observed.information = "h1" the
    inverse of Σ_g f_g Δ_gᵀ A1_g Δ_g, A1_g the observed h1 information at the model-implied
    moments."""
    observed = fit.options.information is Information.OBSERVED
    if not (fit.options.test_observed_h1 and observed):
        return _bread_inverse(fit)
    info = sum(
        g.weight * g.delta.T @ _h1_information(g, g.sigma, g.mu, Information.OBSERVED) @ g.delta
        for g in groups
    )
    active = inference.active_constraint_rows(fit.model.space, fit.estimation.phi)
    return fit.nobs * inference.vcov_from_information(info, fit.nobs, active)


def _trace_h0(groups: Sequence[_Group], e_inv: np.ndarray) -> float:
    return sum(
        g.weight * float(np.sum(e_inv * b.T))
        for g, b in zip(groups, _meat_by_group(groups), strict=True)
    )


def _baseline_moments(group: _Group, exogenous: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The independence model's estimates: per-variable means and variances, the exogenous
    covariates' block at its unrestricted estimates."""
    if group.fiml:
        independence = independence_model(group.patterns)
        mean, var = independence.mean, independence.var
    else:
        mean, var = group.h1_mean, np.diag(group.h1_cov)
    sigma = np.diag(var)
    x = exogenous
    sigma[np.ix_(x, x)] = group.h1_cov[np.ix_(x, x)]
    return sigma, mean.copy()


def _baseline_free(group: _Group, fixed_x: bool, exogenous: np.ndarray) -> np.ndarray:
    """Mask over the moments of the independence model's free parameters."""
    is_x = np.zeros(group.p, dtype=bool)
    is_x[exogenous] = True
    rows, cols = vech_indices(group.p)
    free_cov = (rows == cols) & ~is_x[rows]
    if not fixed_x:
        free_cov |= is_x[rows] & is_x[cols]
    free_mean = ~is_x if fixed_x else np.ones(group.p, dtype=bool)
    return np.concatenate([free_mean, free_cov]) if group.meanstructure else free_cov


def _baseline_parts(
    fit, groups: Sequence[_Group]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per group: the independence model's free moments (mask) and its estimates Σ0, μ0."""
    out = []
    for block, group in zip(fit.table.blocks, groups, strict=True):
        names = list(fit.model.layouts[block.index - 1].observed)
        exogenous = np.array([names.index(v) for v in block.observed_exogenous], dtype=np.intp)
        free = _baseline_free(group, fit.table.options.fixed_x, exogenous)
        out.append((free, *_baseline_moments(group, exogenous)))
    return out


def _baseline_trace_h0(fit, groups: Sequence[_Group], kind: Information) -> float:
    """Σ_g tr(E0_g⁻¹ B0_g) of the independence model (its groups share no parameter)."""
    total = 0.0
    if not fit.table.options.missing.is_fiml:  # at the estimates, observed = expected (see h1)
        kind = Information.EXPECTED
    for group, (free, sigma, mu) in zip(groups, _baseline_parts(fit, groups), strict=True):
        if robust_structured.applies(group, mlr=True):
            total += robust_structured.baseline_h0_trace(group, free, sigma, mu)
            continue
        info = _h1_information(group, sigma, mu, kind)[np.ix_(free, free)]
        meat = _first_order(group, sigma, mu)[np.ix_(free, free)]
        total += float(np.trace(np.linalg.solve(info, meat)))
    return total


# --------------------------------------------------------------------------- the scaled test


@dataclass(frozen=True)
class Traces:
    h1: float  # Σ_g tr(A1_g⁻¹ B1_g)
    h1_ndat: int
    h0: float  # the model's Σ_g f_g tr(E⁻¹ B0_g)
    h0_baseline: float


def _traces(fit, groups: Sequence[_Group]) -> Traces:
    kind = fit.options.information
    h1 = [_trace_h1(g, kind) for g in groups]
    return Traces(
        h1=sum(t for t, _ in h1),
        h1_ndat=sum(n for _, n in h1),
        h0=_trace_h0(groups, _test_bread_inverse(fit, groups)),
        h0_baseline=_baseline_trace_h0(fit, groups, kind),
    )


def _free_rows(fit) -> float:
    """lavaan's count of free parameters for the h0 factor: each free row (equal ones apart)."""
    count = sum(1 for row in fit.table.parameters if row.is_free)
    return count if count else math.nan


def scaled_test(fit, unscaled: dict | None = None) -> dict[str, float]:
    """The Yuan-Bentler (Mplus variant) scaled test and the fit measures built on it.

    ``unscaled`` holds the fit's ordinary measures (chisq, df, baseline_chisq, baseline_df); by
    default ``fit.fit_measures()``. Keys follow lavaan's ``fitMeasures()``: chisq_scaled,
    df_scaled, pvalue_scaled, scaling_factor (= chisq_scaling_factor), scaling_factor_h1,
    scaling_factor_h0, baseline_chisq_scaled, baseline_df_scaled, baseline_pvalue_scaled,
    baseline_chisq_scaling_factor, cfi/tli/nnfi/rni/nfi/rfi/ifi/pnfi_scaled, rmsea_scaled with
    its interval and p-values, and the robust cfi/tli/nnfi/rni and rmsea (interval, p-values).
    """
    base = unscaled if unscaled is not None else fit.fit_measures()
    return scaled_from_traces(fit, base, _traces(fit, _groups(fit)))


def scaled_from_traces(fit, base: dict, traces: Traces) -> dict[str, float]:
    """The measures of :func:`scaled_test` from the traces (any family that has them)."""
    chisq, df = base["chisq"], base["df"]
    chisq0, df0 = base["baseline_chisq"], base["baseline_df"]
    c = robust_measures.scaling_factor(traces.h1 - traces.h0, df)
    c0 = robust_measures.scaling_factor(traces.h1 - traces.h0_baseline, df0)
    chisq_s = chisq if df == 0 else chisq / c
    chisq0_s = chisq0 / c0
    out = {
        "chisq_scaled": chisq_s,
        "df_scaled": df,
        "pvalue_scaled": measures.chisq_pvalue(chisq_s, df),
        "scaling_factor": c,
        "chisq_scaling_factor": c,
        "scaling_factor_h1": traces.h1 / traces.h1_ndat,
        "scaling_factor_h0": traces.h0 / _free_rows(fit),
        "baseline_chisq_scaled": chisq0_s,
        "baseline_df_scaled": df0,
        "baseline_pvalue_scaled": measures.chisq_pvalue(chisq0_s, df0),
        "baseline_chisq_scaling_factor": c0,
    }
    ngroups, nobs = len(fit.sample.group_nobs), fit.inference_nobs  # N - G with the Wishart one
    out |= robust_measures.scaled_indices(chisq_s, df, chisq0_s, df0, chisq, df * c, nobs,
                                          ngroups)  # fmt: skip
    x2, c, x2_0, c0 = (chisq, c, chisq0, c0)
    if fit.table.options.missing.is_fiml:
        from semlang.results.robust_fiml import fiml_corrected

        x2, c, x2_0, c0 = fiml_corrected(fit, _groups(fit), df, df0)
    model = (x2, c, x2 / c, c)
    out |= robust_measures.robust_indices(df, df0, model, (x2_0, c0), nobs, ngroups)
    return out
