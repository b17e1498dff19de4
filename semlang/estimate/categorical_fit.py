"""The Fit of a categorical model: the values lavaan derives after the fit.

Input: the estimation of :class:`~semlang.estimate.categorical_family.CategoricalLeastSquares`.
Output: a :class:`~semlang.results.fit.Fit` whose implied moments are those of the latent
responses y* with the derived residual variances of the ordered variables (delta
parameterization: 1/Δ² less the explained variance), and whose fixed rows report them: the
residual variances (delta) and the scale factors Δ = Σ_jj^(−1/2) (theta), as lavaan's estimates.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from semlang.compile.ram import ImpliedMoments, fill_matrices
from semlang.errors import NotSupportedError
from semlang.estimate import categorical_moments as cm
from semlang.results.fit import Fit
from semlang.syntax.ast import Op


class CategoricalFit(Fit):
    @cached_property
    def implied(self) -> tuple[ImpliedMoments, ...]:
        out: list[ImpliedMoments] = []
        discrepancies = self.estimation.objective.discrepancies
        for layout, d in zip(self.model.layouts, discrepancies, strict=True):
            A, S, m = fill_matrices(layout, self.theta, self.estimation.objective.exo[len(out)])
            cat = d.cat
            if not cat.theta_parameterization:
                first = ImpliedMoments(layout, A, S, m)
                p = layout.n_observed
                diag = np.diag(S)[:p].copy()
                new = cm.derived_residuals(cat, self.theta, first.sigma, first.mu, diag)
                S = S.copy()
                S[np.arange(p), np.arange(p)] = new
            out.append(ImpliedMoments(layout, A, S, m))
        return tuple(out)

    @cached_property
    def _derived(self) -> dict[tuple[int, str, Op], float]:
        """(block, variable, op) -> the derived value of a fixed residual variance or scale."""
        out = {}
        discrepancies = self.estimation.objective.discrepancies
        for layout, d, moments in zip(self.model.layouts, discrepancies, self.implied,
                                      strict=True):  # fmt: skip
            cat = d.cat
            delta = cm.scales(cat, self.theta, cm.conditional(cat, moments.sigma, moments.mu)[0])
            for j in np.flatnonzero(cat.ordered):
                k = cat.y[j]
                name = layout.observed[k]
                out[(layout.block, name, Op.COVARIANCE)] = float(moments.S[k, k])
                out[(layout.block, name, Op.SCALING)] = float(delta[j])
        return out

    def row_estimate(self, row) -> float:
        if not row.is_free and row.op in (Op.COVARIANCE, Op.SCALING) and row.lhs == row.rhs:
            value = self._derived.get((row.block, row.lhs, row.op))
            if value is not None:
                return value
        return super().row_estimate(row)

    def standardized_jacobian(self, kind: str) -> np.ndarray:
        """The Jacobian of the standardized values with the derived residual variances and
        scales moving with θ (:mod:`semlang.estimate.categorical_standardized`)."""
        from semlang.estimate.categorical_standardized import standardized_jacobian

        return standardized_jacobian(self, kind)

    # ---- what is not available for ordered data yet: a clear refusal, never wrong numbers ----
    def predict(self, data=None, method: str = "ebm"):
        """lavaan's ``lavPredict()`` for ordered data: EBM (or with method="ml" maximum
        likelihood) factor scores of the fitted rows."""
        kind = str(method).lower()
        if kind not in ("ebm", "eb", "regression", "reg", "ml") or data is not None:
            hint = "fit.predict() gives lavaan's EBM scores of the fitted rows, method='ML' ML ones"
            raise _not_yet(f"factor scores by {method!r} or of new data", hint)
        from semlang.estimate.categorical_scores import ebm_scores

        return ebm_scores(self, ml=kind == "ml")

    def modindices(self, sort: bool = False, minimum_value: float = 0.0, **options):
        raise _not_yet("modification indices")

    def residuals(self, type: str | None = None, summary: bool = False) -> dict:
        """lavaan's ``resid(fit)`` of ordered data: sampstat − implied (type "raw")."""
        if (
            summary
            or type not in (None, "raw")
            or any(len(d.cat.x) for d in self.estimation.objective.discrepancies)
        ):
            raise _not_yet("residuals other than resid(fit, type='raw') without covariates",
                           "fit.fit_measures() has the SRMR and WRMR")  # fmt: skip
        observed, implied = self._statistics("sampstat"), self._statistics("implied")
        if len(self.model.layouts) == 1:
            observed, implied = {"": observed}, {"": implied}
        out = {label: {"type": "raw", **{k: observed[label][k] - implied[label][k]
                                         for k in ("cov", "mean", "th")}}
               for label in observed}  # fmt: skip
        return out[""] if len(out) == 1 and "" in out else out

    def residual_summary(self, type: str = "cor.bentler"):
        raise _not_yet("residual_summary()", "fit.fit_measures() has the SRMR and WRMR")

    def inspect(self, what: str):
        key = str(what).lower().replace("_", ".")
        if key in ("sampstat", "implied") and not any(
            len(d.cat.x) for d in self.estimation.objective.discrepancies
        ):
            return self._statistics(key)
        if key in _INSPECT_NOT_YET:
            raise _not_yet(f"inspect({what!r})")
        return super().inspect(what)

    def _statistics(self, key: str):
        """lavaan's sampstat / implied of ordered data: the correlation (numeric: covariance)
        matrix, the means (0 for ordered variables) and the thresholds, per group."""
        import pandas as pd

        from semlang.estimate.categorical_inference import _matrix

        objective = self.estimation.objective
        vectors = objective.vectors(self.theta)  # type: ignore[attr-defined]
        out = []
        for layout, d, vector in zip(self.model.layouts, objective.discrepancies, vectors,
                                     strict=True):  # fmt: skip
            cat = d.cat
            values = d.stats.wls_obs if key == "sampstat" else vector
            names = list(layout.observed)
            ordered = cat.ordered[cat.th_var]
            th = values[: cat.n_thresholds]
            mean = np.zeros(cat.p)
            numeric_entries = np.flatnonzero(~ordered)
            mean[cat.th_var[numeric_entries]] = -th[numeric_entries]
            out.append({
                "cov": pd.DataFrame(_matrix(cat, values), index=names, columns=names),
                "mean": pd.Series(mean, index=names),
                "th": pd.Series(th[ordered], index=[n for n, o in
                                                    zip(cat.th_names, ordered, strict=True) if o]),
            })  # fmt: skip
        if len(out) == 1:
            return out[0]
        return dict(zip(self.table.group_labels, out, strict=True))


_INSPECT_NOT_YET = frozenset(("sampstat", "implied", "residuals", "cov.ov", "cor.ov", "mean.ov"))


def _not_yet(what: str, hint: str | None = None) -> NotSupportedError:
    return NotSupportedError(
        f"{what} of a model with ordered-categorical variables are not available yet", None,
        None, hint=hint or "the estimates, standard errors, tests and fit measures are",
    )  # fmt: skip
