"""The least-squares family for continuous data: lavaan's estimators GLS, WLS (ADF), DWLS, ULS,
and the robust names ULSM, ULSMV, ULSMVS (ULS) and WLSM, WLSMV, WLSMVS (DWLS), which minimise
the same discrepancy and differ in their standard errors and tests (robust.sem and a scaled
test: :mod:`semlang.results.robust_sem`, weighing the moments with the estimator's own W).

Input: a compiled single-level model, its complete sample data and the fit options. Output: the
objective (one :class:`LeastSquaresDiscrepancy` per group) and, after the fit, the test statistics
of the model and of its baseline. No log-likelihood is reported.

Each group's moments are s = (ȳ if there is a mean structure, vech S), S with divisor N, and the
model's σ(θ) likewise; F = Σ_g w_g (s_g − σ_g)ᵀ W_g (s_g − σ_g) with w_g = n_g/N and χ² = N·F̂
(lavaan's fmin is F/2). The weight matrix W_g is fixed before the fit:

* ULS: the identity;
* GLS: the normal-theory Γ_NT⁻¹ at the sample moments (½ Dᵀ(S⁻¹⊗S⁻¹)D for vech S, S⁻¹ for ȳ);
* WLS: Γ⁻¹, Γ the sample covariance (divisor N) of the rows' moment contributions
  (asymptotically distribution free);
* DWLS: diag(Γ)⁻¹.

With fixed.x covariates their own moments are fixed at the sample values, so their residuals are
zero: they are left out of s, and Γ is that of the other moments, taken (as for the robust
tests) from the contributions less those the covariates predict.

The expected information per observation is w_g Δᵀ W Δ (Δ = dσ/dθ) and standard errors are
(N·information)⁻¹, as lavaan's ``se="standard"`` for these estimators. The ULS statistic has
no p-value (lavaan: its reference distribution is unknown). The baseline is the
independence model fitted with the same W: σ is linear in its parameters, so its minimum has a
closed form (a Schur complement of W).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from semlang.errors import EstimationError
from semlang.estimate.data import GroupData
from semlang.estimate.families import H1Moments, Statistics, moments_count
from semlang.estimate.missing_patterns import vech_indices
from semlang.estimate.normal_family import baseline_npar, covariates, exo_values, fixed_x
from semlang.estimate.objective import Objective
from semlang.matrices import symmetric_cross_product, well_conditioned_inverse
from semlang.options import Estimator


@dataclass(frozen=True)
class MomentIndex:
    """Which moments of p variables enter s: the means (if any), then vech entries."""

    p: int
    means: np.ndarray  # variable indices whose means enter
    rows: np.ndarray  # vech entries that enter (row, col) with row >= col
    cols: np.ndarray

    @classmethod
    def build(cls, p: int, meanstructure: bool, x: list[int]) -> MomentIndex:
        rows, cols = vech_indices(p)
        is_x = np.zeros(p, dtype=bool)
        is_x[x] = True
        keep = ~(is_x[rows] & is_x[cols])
        means = np.flatnonzero(~is_x) if meanstructure else np.zeros(0, dtype=np.intp)
        return cls(p, means, rows[keep], cols[keep])

    @property
    def n_means(self) -> int:
        return len(self.means)

    @property
    def size(self) -> int:
        return len(self.means) + len(self.rows)

    def vector(self, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
        return np.concatenate([mean[self.means], cov[self.rows, self.cols]])

    def embedded(self, W: np.ndarray, meanstructure: bool) -> np.ndarray:
        """W over all moments ((μ,) vech Σ in vech order), zero where a moment is left out."""
        rows, _ = vech_indices(self.p)
        position = np.zeros((self.p, self.p), dtype=np.intp)
        position[vech_indices(self.p)] = np.arange(len(rows))
        offset = self.p if meanstructure else 0
        at = np.concatenate([self.means, offset + position[self.rows, self.cols]])
        if len(at) == offset + len(rows) and np.array_equal(at, np.arange(len(at))):
            return W.copy()  # every moment enters, in order
        out = np.zeros((offset + len(rows),) * 2)
        out[np.ix_(at, at)] = W
        return out


# --------------------------------------------------------------------------- weight matrices


def normal_theory_weight(cov: np.ndarray, index: MomentIndex) -> np.ndarray:
    """Γ_NT⁻¹ at S: S⁻¹ for the means, ½ Dᵀ(S⁻¹⊗S⁻¹)D for the covariances."""
    inverse = np.linalg.inv(cov)
    r, c = index.rows, index.cols
    # ½ Dᵀ(V⊗V)D at vech entries (i,j), (k,l) is ¼ d_ij d_kl (V_ik V_jl + V_il V_jk), with
    # d = 2 off the diagonal and 1 on it (the duplication matrix D counts E_ij and E_ji).
    block = inverse[np.ix_(r, r)] * inverse[np.ix_(c, c)]
    block += inverse[np.ix_(r, c)] * inverse[np.ix_(c, r)]
    double = np.where(r == c, 1.0, 2.0)
    block *= np.outer(double, double) / 4.0
    k = index.n_means
    W = np.zeros((index.size, index.size))
    W[:k, :k] = inverse[np.ix_(index.means, index.means)]
    W[k:, k:] = block
    return W


def adf_gamma(raw: np.ndarray, index: MomentIndex, x: list[int]) -> np.ndarray:
    """Γ: covariance (divisor N) of the rows' moment contributions; with fixed.x covariates,
    of their deviations from the contributions of the values the covariates predict."""
    n, p = raw.shape
    values = raw.copy()
    if x:
        design = np.hstack([np.ones((n, 1)), raw[:, x]])
        others = np.setdiff1d(np.arange(p), x)
        coef, *_ = np.linalg.lstsq(design, raw[:, others], rcond=None)
        values[:, others] = design @ coef

    def contributions(y: np.ndarray) -> np.ndarray:
        """The rows' contributions, transposed (moments x rows): gathering rows of the
        transposed centred data is contiguous, and zᵀ is z in Fortran order (what BLAS takes)."""
        centered = np.ascontiguousarray((y - y.mean(axis=0)).T)
        out = np.empty((index.size, n))
        out[: index.n_means] = y[:, index.means].T
        np.multiply(centered[index.rows], centered[index.cols], out=out[index.n_means :])
        return out

    zt = contributions(raw) - contributions(values) if x else contributions(raw)
    zt -= zt.mean(axis=1)[:, None]
    return symmetric_cross_product(zt.T) / n


def weight_matrix(estimator: Estimator, cov, group, index: MomentIndex, x: list[int]):
    """The group's W for ``estimator`` (see the module docstring); ``cov`` is S."""
    if estimator is Estimator.ULS:
        return np.eye(index.size)
    if estimator is Estimator.GLS:
        return normal_theory_weight(cov, index)
    if not isinstance(group, GroupData):
        raise EstimationError(
            f"estimator={estimator.value!r} needs the data rows (to estimate the asymptotic "
            "covariance of the sample moments), not only their means and covariances",
            hint="fit the model to a data frame, or use estimator='GLS' or 'ULS'",
        )
    word = f"estimator={estimator.value!r}"
    if estimator is Estimator.WLS and group.nobs <= index.size:
        raise EstimationError(
            f"{word}: the asymptotic covariance matrix (Gamma) of the {index.size} sample "
            f"moments is singular with only {group.nobs} rows{_in_group(group)}",
            hint="WLS needs more rows than sample moments; use estimator='DWLS', 'ULS' or 'ML'",
        )
    gamma = adf_gamma(group.raw, index, x)
    if estimator is Estimator.DWLS:
        diagonal = np.diag(gamma)
        if np.any(diagonal <= 0):
            raise EstimationError(f"{word}: a sample moment has no variance{_in_group(group)}",
                                  hint="check for constant columns")  # fmt: skip
        return np.diag(1.0 / diagonal)
    inverse = well_conditioned_inverse(gamma)
    if inverse is None:
        raise EstimationError(
            f"{word}: the asymptotic covariance matrix (Gamma) of the sample moments is not "
            f"positive definite{_in_group(group)}",
            hint="use estimator='DWLS', 'ULS' or 'ML'",
        )
    return inverse


def _in_group(group) -> str:
    return f" in group {group.label!r}" if getattr(group, "label", "") else ""


# --------------------------------------------------------------------------- discrepancy


@dataclass(frozen=True)
class LeastSquaresDiscrepancy:
    """One group's w (s − σ)ᵀ W (s − σ)."""

    mean: np.ndarray
    cov: np.ndarray
    nobs: int
    weight: float  # (n_g − 1) / N: χ² = N·F is lavaan's Σ (n_g − 1)(s − σ)ᵀW(s − σ)
    meanstructure: bool
    index: MomentIndex
    W: np.ndarray
    information_weight: float  # n_g / N (the information is scaled by N − G: inference_nobs)
    raw: np.ndarray | None = None  # the group's rows, where the fit has them (robust inference)

    @cached_property
    def patterns(self):
        """The rows as one missing-data pattern (what casewise computations take)."""
        from semlang.estimate.missing import MissingPatterns

        assert self.raw is not None, "casewise computations need the rows (not only moments)"
        return MissingPatterns.from_array(self.raw)

    @cached_property
    def sample_vector(self) -> np.ndarray:
        return self.index.vector(self.mean, self.cov)

    def sample_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """The sample means and covariances (lavaan's WLS.obs)."""
        return self.mean, self.cov

    @property
    def h1_mean(self) -> np.ndarray:
        return self.mean

    @property
    def h1_cov(self) -> np.ndarray:
        return self.cov

    def residuals(self, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
        return self.sample_vector - self.index.vector(mu, sigma)

    def unweighted(self, sigma: np.ndarray, mu: np.ndarray) -> float:
        """(s − σ)ᵀ W (s − σ) of the group (χ²_g = n_g times this)."""
        r = self.residuals(sigma, mu)
        return float(r @ self.W @ r)

    def evaluate(self, sigma: np.ndarray, mu: np.ndarray, gradient: bool = True):
        """(weighted f, dF/dΣ in the tr(G dΣ) convention, dF/dμ or None)."""
        r = self.residuals(sigma, mu)
        Wr = self.W @ r
        f = self.weight * float(r @ Wr)
        if not gradient:
            return f, None, None
        d = -2.0 * self.weight * Wr  # dF/ds for each moment in s
        k = self.index.n_means
        rows, cols = self.index.rows, self.index.cols
        p = self.index.p
        G = np.zeros((p, p))
        half = np.where(rows == cols, 1.0, 0.5) * d[k:]
        G[rows, cols] += half
        G[cols, rows] += np.where(rows == cols, 0.0, half)
        g = None
        if self.meanstructure:
            g = np.zeros(p)
            g[self.index.means] = d[:k]
        return f, G, g

    def entry_derivatives(self, Pa, Pb, Pc) -> np.ndarray:
        """Δₑ: the moments' derivatives by each free RAM entry (entries x moments)."""
        rows, cols = self.index.rows, self.index.cols
        cov = Pa[:, rows] * Pb[:, cols] + Pb[:, rows] * Pa[:, cols]
        return np.hstack([Pc[:, self.index.means], cov])

    def expected_entries(self, moments, Pa, Pb, Pc, meanstructure: bool) -> np.ndarray:
        """Per-observation expected information of the free entries, lavaan's
        (N − G)/N · n_g/N · Δₑ W Δₑᵀ (≈ w Δₑ W Δₑᵀ, half the expected Hessian of F)."""
        delta = self.entry_derivatives(Pa, Pb, Pc)
        return self.information_weight * _weighted_gram(delta, self.W)

    def first_order_hessian_entries(self, moments, Pa, Pb, Pc, meanstructure) -> np.ndarray:
        """The Gauss-Newton part of ∇²F in the free entries: 2 w Δₑ W Δₑᵀ."""
        delta = self.entry_derivatives(Pa, Pb, Pc)
        return 2.0 * self.weight * _weighted_gram(delta, self.W)

    def independence_value(self, free: np.ndarray) -> float:
        """min (s − σ)ᵀW(s − σ) of the independence model: σ free on the moments ``free``,
        zero on the other moments in s (the fixed covariates' block is not in s)."""
        r = self.sample_vector
        fixed = ~free
        W = self.W
        schur = W[np.ix_(fixed, fixed)]
        if free.any():
            cross = W[np.ix_(fixed, free)]
            schur = schur - cross @ np.linalg.solve(W[np.ix_(free, free)], cross.T)
        return float(r[fixed] @ schur @ r[fixed])


SPARSE_MOMENTS = 200  # from this many moments Δₑ W Δₑᵀ takes Δₑ as a sparse matrix ...
SPARSE_DENSITY = 0.25  # ... when at most this share of its entries is not zero


def _weighted_gram(delta: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Δₑ W Δₑᵀ. Each free entry moves only the moments of its variables, so with many moments
    (WLS on 30 variables: 465) Δₑ is mostly zeros, and its product with W is taken sparse."""
    if delta.shape[1] >= SPARSE_MOMENTS and np.count_nonzero(delta) <= SPARSE_DENSITY * delta.size:
        from scipy import sparse

        return np.asarray(sparse.csr_matrix(delta) @ W) @ delta.T
    return delta @ W @ delta.T


# --------------------------------------------------------------------------- the family


# lavaan's robust names: the discrepancy they minimize (their standard errors and tests are the
# robust.sem sandwich and the scaled tests, by the options)
DISCREPANCY: dict[Estimator, Estimator] = {
    Estimator.ULSM: Estimator.ULS,
    Estimator.ULSMV: Estimator.ULS,
    Estimator.ULSMVS: Estimator.ULS,
    Estimator.WLSM: Estimator.DWLS,
    Estimator.WLSMV: Estimator.DWLS,
    Estimator.WLSMVS: Estimator.DWLS,
}


@dataclass(frozen=True)
class LeastSquares:
    """GLS, WLS, DWLS or ULS with complete continuous data (see the module docstring); a robust
    name (ULSM, WLSMV, ...) is its discrepancy (:data:`DISCREPANCY`)."""

    estimator: Estimator
    likelihood_based: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "estimator", DISCREPANCY.get(self.estimator, self.estimator))

    @property
    def stores_gamma(self) -> bool:
        """WLS, DWLS and ULS keep the sample Γ of the moments (lavaan's NACOV); GLS does not."""
        return self.estimator is not Estimator.GLS

    @property
    def name(self) -> str:
        return self.estimator.value

    def objective(self, model, sample, options) -> Objective:
        ntotal = sample.nobs
        meanstructure = model.table.meanstructure
        discrepancies, exo = [], []
        for layout, group in zip(model.layouts, sample.groups, strict=True):
            x = fixed_x(layout)
            index = MomentIndex.build(layout.n_observed, meanstructure, x)
            n = group.nobs
            cov = group.cov * n / (n - 1)  # lavaan's S for these estimators: divisor n - 1
            W = weight_matrix(self.estimator, cov, group, index, x)
            discrepancies.append(LeastSquaresDiscrepancy(
                group.mean, cov, n, (n - 1) / ntotal, meanstructure, index, W,
                information_weight=n / ntotal,
                raw=group.raw if isinstance(group, GroupData) else None,
            ))  # fmt: skip
            exo.append(exo_values(layout, group.mean, cov))
        return Objective(model, tuple(discrepancies), tuple(exo), meanstructure)

    def inference_nobs(self, sample) -> int:
        """lavaan's N for these estimators: N − G scales the information and enters RMSEA."""
        return sample.nobs - len(sample.groups)

    def h1_moments(self, fit) -> tuple[H1Moments, ...]:
        return tuple(
            H1Moments(d.h1_mean, d.h1_cov, d.nobs) for d in fit.estimation.objective.discrepancies
        )

    def statistics(self, fit) -> Statistics:
        groups, baseline = [], 0.0
        parts = zip(fit.model.layouts, fit.estimation.objective.discrepancies, fit.implied,
                    strict=True)  # fmt: skip
        for layout, discrepancy, moments in parts:
            n = discrepancy.nobs
            groups.append((n - 1) * discrepancy.unweighted(moments.sigma, moments.mu))
            free = _independence_free(fit.table, layout, discrepancy.index)
            baseline += (n - 1) * discrepancy.independence_value(free)
        return Statistics(
            chisq=max(sum(groups), 0.0),
            baseline_chisq=baseline,
            baseline_npar=baseline_npar(fit),
            chisq_groups=tuple(max(g, 0.0) for g in groups),
        )

    def fit_measures(self, fit) -> dict[str, float]:
        from semlang.results.indices import (
            gfi_measures,
            in_lavaan_order,
            residual_measures,
            test_measures,
        )

        out = test_measures(fit, fit.statistics)
        if self.estimator is Estimator.ULS:  # lavaan: its statistic has no known distribution
            out["pvalue"] = out["baseline_pvalue"] = math.nan
        out.update(residual_measures(fit))
        out.update(gfi_measures(fit, out["df"], self.moment_weights(fit)))
        return in_lavaan_order(out)

    def moment_weights(self, fit, moments=None, information=None) -> list[np.ndarray]:
        """W_g per group over all moments ((μ,) vech Σ): the estimator's own weight matrix, zero
        where a fixed.x covariate's moment is left out. It is fixed before the fit, so
        ``moments`` (a baseline model's, say) and ``information`` do not change it."""
        meanstructure = fit.table.meanstructure
        return [d.index.embedded(d.W, meanstructure)
                for d in fit.estimation.objective.discrepancies]  # fmt: skip


def _independence_free(table, layout, index: MomentIndex) -> np.ndarray:
    """Mask over s of the independence model's free moments: the means and variances, and the
    covariances among covariates that are not fixed.x (their joint block is free)."""
    x = sorted(set(covariates(table, layout)) - set(fixed_x(layout)))
    is_x = np.zeros(index.p, dtype=bool)
    is_x[x] = True
    rows, cols = index.rows, index.cols
    cov_free = (rows == cols) | (is_x[rows] & is_x[cols])
    return np.concatenate([np.ones(index.n_means, dtype=bool), cov_free])


__all__ = ["LeastSquares", "LeastSquaresDiscrepancy", "moments_count"]
