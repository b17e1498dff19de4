"""EFA results: EfaFit (one number of factors) and EfaList (several, lavaan's efaList).

Input: what :func:`semlang.efa.fit.efa` computed. Output: lavaan's views of it — the
standardized loadings, unique variances and factor correlations, the parameter estimates with
standard errors (lavaan's parameterEstimates rows: f1 =~ x1 ..., x1 ~~ x1, f1 ~~ f2), the fit
measures, the comparison table and the text summary (:mod:`.summary`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from . import inference
from .rotation import Rotation


@dataclass(frozen=True, eq=False)
class EfaFit:
    """One EFA solution (see the module docstring)."""

    variables: tuple[str, ...]
    nfactors: int
    estimator: str
    rotation: Rotation
    options: dict
    uniquenesses: np.ndarray
    sigma: np.ndarray
    sample_cov: np.ndarray
    nobs: int
    vcov: np.ndarray | None
    fit_measures: dict
    converged: bool
    unrotated: np.ndarray | None = None

    @property
    def factors(self) -> list[str]:
        return [f"f{k + 1}" for k in range(self.nfactors)]

    @property
    def summary_estimator(self) -> str:
        """The summary's "Estimator" line."""
        return self.estimator

    @property
    def orthogonal_layout(self) -> bool:
        """Whether θ has no factor correlations (orthogonal, unrotated or one factor)."""
        r = self.rotation
        return r.orthogonal or r.method == "none" or self.nfactors < 2

    @cached_property
    def theta(self) -> np.ndarray:
        r = self.rotation
        return inference.pack(r.loadings, self.uniquenesses, r.factor_cor, self.orthogonal_layout)

    @cached_property
    def theta_std(self) -> np.ndarray:
        p = len(self.variables)
        return inference.standardized(self.theta, p, self.nfactors, self.orthogonal_layout)

    @cached_property
    def se(self) -> np.ndarray | None:
        return None if self.vcov is None else _root(np.diag(self.vcov))

    @cached_property
    def se_std(self) -> np.ndarray | None:
        """Standard errors of the standardized θ, as lavaan's standardizedSolution() (for a
        rotated solution: through the rotation, see inference.lavaan_standardized_vcov)."""
        if self.vcov is None:
            return None
        p = len(self.variables)
        if self.rotation.method == "none" or self.unrotated is None:
            V = inference.standardized_vcov(
                self.theta, self.vcov, p, self.nfactors, self.orthogonal_layout
            )
        else:
            V = inference.lavaan_standardized_vcov(
                self.unrotated, self.uniquenesses, self.rotation, self.options,
                self.estimator, self.nobs,
            )  # fmt: skip
        return _root(np.diag(V))

    def _matrix(self, values: np.ndarray) -> pd.DataFrame:
        p, m = len(self.variables), self.nfactors
        return pd.DataFrame(
            values[: p * m].reshape(m, p).T, index=list(self.variables), columns=self.factors
        )

    @property
    def loadings(self) -> pd.DataFrame:
        """The standardized loadings (lavaan's efa()$loadings)."""
        return self._matrix(self.theta_std)

    @property
    def loadings_se(self) -> pd.DataFrame | None:
        """The standard errors of the standardized loadings."""
        return None if self.se_std is None else self._matrix(self.se_std)

    @property
    def unique_variances(self) -> pd.Series:
        """The standardized unique variances (1 − communality)."""
        p, m = len(self.variables), self.nfactors
        return pd.Series(self.theta_std[p * m : p * m + p], index=list(self.variables))

    @property
    def factor_cor(self) -> pd.DataFrame:
        """The factor correlations Φ."""
        return pd.DataFrame(self.rotation.factor_cor, index=self.factors, columns=self.factors)

    @property
    def eigenvalues(self) -> np.ndarray:
        """The eigenvalues of the sample correlation matrix (decreasing)."""
        sd = np.sqrt(np.diag(self.sample_cov))
        return np.linalg.eigvalsh(self.sample_cov / np.outer(sd, sd))[::-1]

    def estimates(self) -> pd.DataFrame:
        """lavaan's parameterEstimates: lhs, op, rhs, est, se, z, pvalue, std_all, se_std."""
        p, m = len(self.variables), self.nfactors
        f, v = self.factors, list(self.variables)
        rows = [(f[k], "=~", v[i]) for k in range(m) for i in range(p)]
        rows += [(x, "~~", x) for x in v] + [(g, "~~", g) for g in f]
        pairs = [(f[k], "~~", f[j]) for k in range(m) for j in range(k + 1, m)]
        rows += pairs
        q = p * m + p
        est, std = list(self.theta[:q]) + [1.0] * m, list(self.theta_std[:q]) + [1.0] * m
        cor = [self.rotation.factor_cor[k, j] for k in range(m) for j in range(k + 1, m)]
        est, std = est + cor, std + cor
        se = se_std = [math.nan] * len(rows)
        if self.se is not None and self.se_std is not None:
            tail = [] if self.orthogonal_layout else list(self.se[q:])
            tail_std = [] if self.orthogonal_layout else list(self.se_std[q:])
            zeros = [0.0] * len(pairs) if self.orthogonal_layout else []
            se = list(self.se[:q]) + [0.0] * m + tail + zeros
            se_std = list(self.se_std[:q]) + [0.0] * m + tail_std + zeros
        frame = pd.DataFrame(rows, columns=["lhs", "op", "rhs"])
        frame["est"], frame["se"] = est, se
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(np.asarray(se) > 0, np.asarray(est) / np.asarray(se), np.nan)
        frame["z"] = z
        frame["pvalue"] = 2.0 * stats.norm.sf(np.abs(z))
        frame["std_all"], frame["se_std"] = std, se_std
        return frame

    def summary(self, cutoff: float = 0.3, dot_cutoff: float = 0.1, alpha_level: float = 0.01,
                nd: int = 3) -> str:  # fmt: skip
        """lavaan's summary of this solution (see :meth:`EfaList.summary`)."""
        return EfaList({self.nfactors: self}).summary(cutoff, dot_cutoff, alpha_level, nd)


class EfaList:
    """Several EFA solutions by number of factors (lavaan's efaList); ``result[3]`` is one."""

    def __init__(self, fits: dict[int, EfaFit]):
        self.fits = dict(fits)

    def __getitem__(self, nfactors: int) -> EfaFit:
        return self.fits[nfactors]

    def __iter__(self):
        return iter(self.fits.values())

    def __len__(self) -> int:
        return len(self.fits)

    @property
    def nfactors(self) -> list[int]:
        return list(self.fits)

    @property
    def loadings(self) -> pd.DataFrame | dict[int, pd.DataFrame]:
        """The standardized loadings: one table, or one per number of factors."""
        tables = {m: fit.loadings for m, fit in self.fits.items()}
        return next(iter(tables.values())) if len(tables) == 1 else tables

    def fit_measures(self) -> pd.DataFrame:
        """Every fit measure (rows) by number of factors (columns ``nfactors = m``)."""
        return pd.DataFrame(
            {f"nfactors = {m}": pd.Series(fit.fit_measures) for m, fit in self.fits.items()}
        )

    def fit_table(self) -> pd.DataFrame:
        """lavaan's comparison table: aic, bic, sabic, chisq, df, pvalue, cfi, rmsea — with a
        scaled test (ordered items) the scaled chisq, df and pvalue, and the robust cfi and
        rmsea (the scaled ones where the robust are not available), under the plain names."""
        table = self.fit_measures().T
        columns = [c for c in ("aic", "bic", "sabic") if c in table.columns]
        if {"chisq_scaled", "df_scaled", "pvalue_scaled"} <= set(table.columns):
            columns += ["chisq_scaled", "df_scaled", "pvalue_scaled"]
        else:
            columns += [c for c in ("chisq", "df", "pvalue") if c in table.columns]
        for name in ("cfi", "rmsea"):
            robust, scaled = f"{name}_robust", f"{name}_scaled"
            if robust in table.columns and not table[robust].isna().all():
                columns.append(robust)
            elif scaled in table.columns:
                columns.append(scaled)
            elif name in table.columns:
                columns.append(name)
        out = table[columns]
        out.columns = [c.removesuffix("_scaled").removesuffix("_robust") for c in columns]
        return out

    def summary(self, cutoff: float = 0.3, dot_cutoff: float = 0.1, alpha_level: float = 0.01,
                nd: int = 3) -> str:  # fmt: skip
        """lavaan's summary(efa): header, comparison table, eigenvalues, then per number of
        factors the standardized loadings (blank below ``dot_cutoff``, a dot below ``cutoff``,
        * where significant at ``alpha_level``), unique variances, communalities, the sums of
        squares and the factor correlations."""
        from .summary import render

        return render(self, cutoff, dot_cutoff, alpha_level, nd)

    def __repr__(self) -> str:
        return f"<EfaList nfactors={self.nfactors}>"


def _root(values: np.ndarray) -> np.ndarray:
    out = np.sqrt(np.where(values < 0, np.nan, values))
    return np.where(out < np.finfo(float).eps ** (1 / 3), 0.0, out)
