"""The least-squares family of models with ordered-categorical variables (lavaan's WLSMV and kin).

Input: the compiled model (thresholds and scale factors in its table), the sample data and
the fit options; each group's sample statistics (thresholds, polychoric/polyserial
correlations, numeric means and variances in lavaan's WLS.obs order) with their asymptotic
covariance Γ (lavaan's NACOV). Output: the objective F(θ) = Σ_g (n_g/N)(s_g − σ_g)ᵀW_g(s_g − σ_g)
with its analytic gradient and expected information Σ_g (n_g/N) Δ_gᵀW_gΔ_g (Δ_g = dσ_g/dθ,
:mod:`semlang.estimate.categorical_moments`), and after the fit the test statistic T = N·F,
the baseline (thresholds, numeric means and variances free, correlations zero), the robust.sem
sandwich and the scaled tests (:mod:`semlang.estimate.categorical_inference`).

W_g: WLS Γ⁻¹, DWLS diag(Γ)⁻¹, ULS the identity; the robust names (WLSM, WLSMV, WLSMVS, ULSM,
ULSMV, ULSMVS) minimize the DWLS or ULS discrepancy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from semlang.errors import EstimationError
from semlang.estimate import categorical_moments as cm
from semlang.estimate.families import H1Moments, Statistics
from semlang.estimate.least_squares import DISCREPANCY
from semlang.matrices import NotPositiveDefinite
from semlang.options import Estimator


@dataclass(frozen=True)
class CategoricalStats:
    """One group's sample statistics in lavaan's WLS.obs order, with their Γ (NACOV: N times
    the asymptotic covariance), the correlation (numeric: covariance) matrix and the means
    (numeric variables; 0 for ordered ones), which give the starting values."""

    wls_obs: np.ndarray
    gamma: np.ndarray | None
    nobs: int
    cov: np.ndarray
    mean: np.ndarray
    weight_diagonal: np.ndarray | None = None  # lavaan's DWLS weights where Γ is not kept


def weight_matrix(estimator: Estimator, stats: CategoricalStats) -> np.ndarray:
    """W of the estimator's discrepancy: WLS Γ⁻¹, DWLS diag(Γ)⁻¹, ULS I."""
    size = len(stats.wls_obs)
    if estimator is Estimator.ULS:
        return np.eye(size)
    if estimator is Estimator.DWLS:
        if stats.gamma is None:
            assert stats.weight_diagonal is not None  # (kept when Γ is not)
            return np.diag(stats.weight_diagonal)
        return np.diag(1.0 / np.diag(stats.gamma))
    if stats.gamma is None:
        raise EstimationError("estimator='WLS' needs the asymptotic covariance of the statistics")
    try:
        return np.linalg.inv(stats.gamma)
    except np.linalg.LinAlgError as error:
        raise EstimationError(
            "estimator='WLS': the asymptotic covariance matrix of the sample statistics is "
            "singular", hint="use estimator='WLSMV' (DWLS) or 'ULSMV'",
        ) from error  # fmt: skip


@dataclass(frozen=True)
class CategoricalDiscrepancy:
    """One group's (n_g/N)(s − σ)ᵀW(s − σ)."""

    stats: CategoricalStats
    cat: cm.CategoricalLayout
    W: np.ndarray
    weight: float  # n_g / N

    @property
    def nobs(self) -> int:
        return self.stats.nobs

    @property
    def h1_mean(self) -> np.ndarray:
        return self.stats.mean

    @property
    def h1_cov(self) -> np.ndarray:
        return self.stats.cov

    @property
    def sample_vector(self) -> np.ndarray:
        return self.stats.wls_obs

    @cached_property
    def w_diagonal(self) -> np.ndarray | None:
        """The diagonal of W when W is diagonal (DWLS, ULS), else None: the products with W
        then cost O(n) instead of O(n²)."""
        diagonal = np.diag(self.W).copy()
        return diagonal if np.count_nonzero(self.W) == np.count_nonzero(diagonal) else None

    def times_w(self, vector: np.ndarray) -> np.ndarray:
        """W v for a vector, or W M for a matrix of columns."""
        w = self.w_diagonal
        if w is None:
            return self.W @ vector
        return w * vector if vector.ndim == 1 else w[:, None] * vector

    def unweighted(self, sigma_vector: np.ndarray) -> float:
        r = self.stats.wls_obs - sigma_vector
        return float(r @ self.times_w(r))

    def independence_value(self) -> float:
        """min (s − σ)ᵀW(s − σ) with the thresholds, numeric means, slopes and variances free
        and the correlations zero."""
        free = np.zeros(len(self.stats.wls_obs), dtype=bool)
        free[: self.cat.n_free_baseline] = True
        r, fixed, W = self.stats.wls_obs, ~free, self.W
        cross = W[np.ix_(fixed, free)]
        schur = W[np.ix_(fixed, fixed)] - cross @ np.linalg.solve(W[np.ix_(free, free)], cross.T)
        return float(r[fixed] @ schur @ r[fixed])


@dataclass(frozen=True)
class CategoricalObjective:
    """F(φ), its gradient and expected information (the optimizer's and the results' view)."""

    model: Any
    discrepancies: tuple[CategoricalDiscrepancy, ...]
    exo: tuple
    exo_moments: tuple = ()  # per block: (mean, covariance) of the covariates
    meanstructure: bool = True
    # the last θ and its Δ_g: the optimizer asks for the gradient and the information at the
    # same θ, and Δ is the costly part of both
    _last_jacobians: list = field(default_factory=lambda: [None], compare=False, repr=False)

    def theta(self, phi: np.ndarray) -> np.ndarray:
        return self.model.space.theta(phi)

    def vectors(self, theta: np.ndarray) -> list[np.ndarray]:
        """σ_g(θ) of every group."""
        implied = self.model.implied(theta, self.exo)
        return [cm.implied_vector(d.cat, theta, m.sigma, m.mu)
                for d, m in zip(self.discrepancies, implied, strict=True)]  # fmt: skip

    def jacobians(self, theta: np.ndarray) -> list[np.ndarray]:
        """Δ_g = dσ_g/dθ of every group."""
        key = np.asarray(theta, dtype=float).tobytes()
        last = self._last_jacobians[0]
        if last is not None and last[0] == key:
            return list(last[1])
        implied = self.model.implied(theta, self.exo)
        out = []
        for d, m in zip(self.discrepancies, implied, strict=True):
            d_sigma, d_mu = m.dsigma_dtheta(len(theta))
            jac = cm.jacobian(d.cat, theta, m.sigma, m.mu, d_sigma, d_mu)
            jac.flags.writeable = False  # shared with later calls at the same θ
            out.append(jac)
        self._last_jacobians[0] = (key, tuple(out))
        return out

    def value_theta(self, theta: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            vectors = self.vectors(theta)
        total = sum(d.weight * d.unweighted(v)
                    for d, v in zip(self.discrepancies, vectors, strict=True))  # fmt: skip
        return float(total) if np.isfinite(total) else np.inf

    def value(self, phi: np.ndarray) -> float:
        try:
            return self.value_theta(self.theta(phi))
        except (NotPositiveDefinite, np.linalg.LinAlgError):
            return np.inf

    def value_and_gradient_theta(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(all="ignore"):
            vectors = self.vectors(theta)
            jacobians = self.jacobians(theta)
        total, grad = 0.0, np.zeros(len(theta))
        for d, v, jac in zip(self.discrepancies, vectors, jacobians, strict=True):
            r = d.stats.wls_obs - v
            wr = d.times_w(r)
            total += d.weight * float(r @ wr)
            grad -= 2.0 * d.weight * jac.T @ wr
        if not np.isfinite(total) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros(len(theta))
        return total, grad

    def value_and_gradient(self, phi: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = self.value_and_gradient_theta(self.theta(phi))
        if not np.isfinite(total):
            return np.inf, np.zeros(len(phi))
        return total, self.model.space.jacobian(phi).T @ grad

    def information_theta(self, theta: np.ndarray) -> np.ndarray:
        """Σ_g (n_g/N) Δ_gᵀW_gΔ_g (per observation; half the expected Hessian of F)."""
        out = np.zeros((len(theta), len(theta)))
        for d, jac in zip(self.discrepancies, self.jacobians(theta), strict=True):
            out += d.weight * jac.T @ d.times_w(jac)
        return out

    def information(self, phi: np.ndarray) -> np.ndarray:
        J = self.model.space.jacobian(phi)
        return J.T @ self.information_theta(self.theta(phi)) @ J

    def observed_information(self, phi: np.ndarray) -> np.ndarray:
        """The Gauss-Newton part (least squares: the optimizer's Newton steps take it)."""
        return self.information(phi)

    def hessian_theta(self, theta: np.ndarray) -> np.ndarray:
        return 2.0 * self.information_theta(theta)

    def h1_blocks(self) -> tuple[list, list]:
        """Each block's means and covariances of its observed variables (covariates included)
        that the starting values are taken from: the polychoric correlations, the slopes times
        the covariates' covariances, the covariates' own moments."""
        means, covs = [], []
        for d, exo in zip(self.discrepancies, self.exo_moments, strict=True):
            cat = d.cat
            n = len(cat.y) + len(cat.x)
            mean, cov = np.zeros(n), np.zeros((n, n))
            y, x = cat.y, cat.x
            cov[np.ix_(y, y)] = d.stats.cov
            mean[y] = d.stats.mean
            if len(x):
                mx, sxx = exo
                k = cat.n_thresholds
                pi = d.stats.wls_obs[k : k + cat.n_slopes].reshape(len(x), len(y)).T
                cov[np.ix_(x, x)] = sxx
                cov[np.ix_(y, x)] = pi @ sxx
                cov[np.ix_(x, y)] = (pi @ sxx).T
                cov[np.ix_(y, y)] += pi @ sxx @ pi.T
                mean[x] = mx
                mean[y] += pi @ mx
            means.append(mean)
            covs.append(cov)
        return means, covs

    def start_theta(self, theta: np.ndarray) -> np.ndarray:
        """Starting values: the sample thresholds, scale factors 1."""
        out = theta.copy()
        for d in self.discrepancies:
            cat = d.cat
            n = cat.n_thresholds
            free = cat.th_theta >= 0
            out[cat.th_theta[free]] = d.stats.wls_obs[:n][free]
            out[cat.scale_theta[cat.scale_theta >= 0]] = 1.0
        return out


def _covariate_moments(group, layout, cat) -> tuple[np.ndarray, np.ndarray]:
    """The covariates' means and covariances (divisor N − 1, as lavaan's cov.x for ordered
    data) over the group's rows."""
    index = [list(group.names).index(layout.observed[k]) for k in cat.x]
    values = np.asarray(group.raw, dtype=float)[:, index]
    values = values[~np.isnan(values).any(axis=1)]
    mean = values.mean(axis=0)
    centered = values - mean
    return mean, centered.T @ centered / max(len(values) - 1, 1)


def _exo_values(layout, cat, moments):
    """The block's fixed.x entries filled with the covariates' sample moments."""
    from semlang.compile.ram import ExoValues

    if not layout.exo_S and not layout.exo_m:
        return None
    mean, cov = np.zeros(len(layout.observed)), np.zeros((len(layout.observed),) * 2)
    mean[cat.x], cov[np.ix_(cat.x, cat.x)] = moments
    S = np.array([cov[i, j] for i, j in layout.exo_S], dtype=float)
    m = np.array([mean[i] for i in layout.exo_m], dtype=float)
    return ExoValues(S, m)


def sample_statistics(group, cat: cm.CategoricalLayout, names, options) -> CategoricalStats:
    """The group's statistics from its rows (thresholds, polychoric and polyserial
    correlations and Γ)."""
    from semlang.estimate.categorical_stats_adapter import group_statistics

    return group_statistics(group, cat, names, options)


@dataclass(frozen=True)
class CategoricalLeastSquares:
    """WLS, DWLS or ULS on the statistics of ordered-categorical data (see the module
    docstring); a robust name is its discrepancy."""

    estimator: Estimator
    likelihood_based: bool = False
    stores_gamma: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "estimator", DISCREPANCY.get(self.estimator, self.estimator))

    @property
    def name(self) -> str:
        return self.estimator.value

    @property
    def summary_estimator(self) -> str:
        """lavaan's "Estimator" line: the discrepancy (DWLS for WLSMV)."""
        return self.estimator.value

    summary_h1 = "Unstructured"  # lavaan's h1 information line for ordered data

    @cached_property
    def fit_class(self):
        from semlang.estimate.categorical_fit import CategoricalFit

        return CategoricalFit

    def objective(self, model, sample, options, stats=None) -> CategoricalObjective:
        """``stats``: each group's :class:`CategoricalStats` (computed from the rows if None)."""
        table = model.table
        discrepancies, exo, exo_moments = [], [], []
        for k, (layout, group) in enumerate(zip(model.layouts, sample.groups, strict=True)):
            covariates = table.blocks[layout.block - 1].observed_exogenous
            cat = cm.build_categorical_layout(layout, table.block_rows(layout.block),
                                              table.options, covariates)  # fmt: skip
            moments = _covariate_moments(group, layout, cat)
            own = stats[k] if stats is not None else sample_statistics(
                group, cat, layout.observed, table.options)  # fmt: skip
            W = weight_matrix(self.estimator, own)
            discrepancies.append(CategoricalDiscrepancy(own, cat, W, own.nobs / sample.nobs))
            exo.append(_exo_values(layout, cat, moments))
            exo_moments.append(moments)
        return CategoricalObjective(model, tuple(discrepancies), tuple(exo), tuple(exo_moments))

    def inference_nobs(self, sample) -> int:
        """lavaan's N for these estimators: N − G enters RMSEA."""
        return sample.nobs - len(sample.groups)

    def h1_moments(self, fit) -> tuple[H1Moments, ...]:
        return tuple(H1Moments(d.h1_mean, d.h1_cov, d.nobs)
                     for d in fit.estimation.objective.discrepancies)  # fmt: skip

    def statistics(self, fit) -> Statistics:
        objective = fit.estimation.objective
        vectors = objective.vectors(fit.theta)
        groups = [(d.nobs - 1) * d.unweighted(v)
                  for d, v in zip(objective.discrepancies, vectors, strict=True)]  # fmt: skip
        baseline = sum((d.nobs - 1) * d.independence_value() for d in objective.discrepancies)
        npar0 = sum(d.cat.n_free_baseline for d in objective.discrepancies)
        return Statistics(
            chisq=max(sum(groups), 0.0), baseline_chisq=baseline, baseline_npar=npar0,
            chisq_groups=tuple(max(g, 0.0) for g in groups),
        )  # fmt: skip

    def fit_measures(self, fit) -> dict[str, float]:
        from semlang.estimate.categorical_inference import standard_measures

        return standard_measures(fit, self.estimator)

    def moment_weights(self, fit, moments=None, information=None) -> list[np.ndarray]:
        return [d.W for d in fit.estimation.objective.discrepancies]

    def robust_sem_vcov(self, fit) -> np.ndarray:
        from semlang.estimate.categorical_inference import robust_sem_vcov

        return robust_sem_vcov(fit)

    def difference_traces(self, less, more) -> tuple[float, float]:
        """Satorra's (2000) tr(UΓ), tr((UΓ)²) of the difference of two nested fits."""
        from semlang.estimate.categorical_inference import difference_traces

        return difference_traces(less, more)

    def scaled_measures(self, fit, base: dict, test) -> dict:
        from semlang.estimate.categorical_inference import scaled_measures

        return scaled_measures(fit, base, test)


def categorical_moments_count(table) -> int:
    """lavaan's ndat with ordered variables: thresholds (and numeric means), numeric
    variances, and the correlations off the diagonal, per group."""
    counts = dict(table.options.thresholds)
    total = 0
    for block in table.blocks:
        y = [v for v in block.observed if v not in block.observed_exogenous]
        p, q = len(y), len(block.observed) - len(y)
        numeric = [v for v in y if v not in counts]
        total += sum(counts.get(v, 1) for v in y) + p * q + len(numeric) + p * (p - 1) // 2
    return total
