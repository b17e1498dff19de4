"""efa() of ordered-categorical items, as lavaan's efa(..., ordered = ...).

Input: the data frame of the items, which of them are ordered, the numbers of factors, the
rotation and its arguments, the estimator (WLSMV by default; DWLS, WLS, ULS and the robust
names) and whether to compute standard errors. Output: an :class:`~semlang.efa.results.EfaList`
of :class:`OrderedEfaFit`.

lavaan's efa() fits each number of factors m as the model ``efa("efa")*f1 + ... +
efa("efa")*fm =~ x1 + ... + xp`` by sem(); so does this module (the exploratory SEM of
:mod:`semlang.esem`): the thresholds and polychoric correlations are fitted by the estimator,
the loadings rotated (the delta parameterization gives every latent response variance 1, so the
loadings are the standardized ones), the standard errors are lavaan's robust ones bordered by
the rotation's conditions and the fit measures are those of the categorical fit (scaled tests,
robust CFI and RMSEA).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError, SemlangWarning
from .results import EfaFit, EfaList
from .rotation import Rotation


def ordered_names(ordered: Any, names: list[str]) -> list[str]:
    """The ordered items: True means all, else names that must be among the items."""
    if ordered is True:
        return list(names)
    given = [str(v) for v in np.atleast_1d(ordered)]
    for name in given:
        if name not in names:
            import difflib

            close = difflib.get_close_matches(name, names, n=1)
            raise DataError(
                f"ordered= names {name!r}, which is not one of the items of the factor analysis",
                hint=f"did you mean {close[0]!r}?" if close else f"the items: {', '.join(names)}",
            )
    return given


def efa_syntax(names: list[str], nfactors: int) -> str:
    """lavaan's efa() model: one efa block "efa" of ``nfactors`` factors on every item."""
    factors = " + ".join(f'efa("efa")*f{k + 1}' for k in range(nfactors))
    return f"{factors} =~ {' + '.join(names)}"


def fit_ordered(frame: pd.DataFrame, names, ordered, counts, rotation, rotation_args,
                estimator, se: bool,
                sem_options: dict[str, Any] | None = None) -> EfaList:  # fmt: skip
    """An EfaList of the ordered items (see the module docstring)."""
    from ..api import sem
    from ..estimate.categorical_stats_adapter import shared_statistics

    args = {str(k).replace(".", "_"): v for k, v in (rotation_args or {}).items()}
    if "order_by" in args:  # (efa()'s short name of lavaan's order.lv.by)
        args["order_lv_by"] = args.pop("order_by")
    options: dict[str, Any] = {"estimator": estimator, "rotation": rotation,
                               "rotation_args": args}  # fmt: skip
    if ordered:  # (none: continuous items under another estimator than ML or ULS)
        options["ordered"] = ordered
    options.update(sem_options or {})  # efa()'s other options, as lavaan passes them to sem()
    if not se:
        options["se"] = "none"
    fits: dict[int, EfaFit] = {}
    with shared_statistics():  # the thresholds, correlations and Γ once for every m
        for m in counts:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SemlangWarning)  # lavaan's efa() is silent, too
                fit = sem(efa_syntax(list(names), m), frame, **options)
            fits[m] = dataclasses.replace(ordered_efa_fit(fit, list(names), m), ntotal=len(frame))
    return EfaList(fits)


def ordered_efa_fit(fit, names: list[str], m: int) -> OrderedEfaFit:
    """The EfaFit view of an exploratory SEM fit of one efa block on ordered items."""
    est = fit.estimates()
    factors = [f"f{k + 1}" for k in range(m)]
    value = dict(zip(zip(est.lhs, est.op, est.rhs, strict=True), est.est, strict=True))
    L = np.array([[value[(f, "=~", v)] for f in factors] for v in names])
    Phi = np.array([[_pair(value, f, g) for g in factors] for f in factors])
    psi = np.array([value[(v, "~~", v)] for v in names])
    rotation = _rotation(fit, L, Phi)
    correlation = fit.inspect("sampstat")["cov"].loc[names, names].to_numpy()
    settings = getattr(fit, "rotation", None)
    opts = dict(settings.args) if settings is not None else {"std_ov": True}
    opts["order_by"] = opts.pop("order_lv_by", "index")
    return OrderedEfaFit(
        variables=tuple(names), nfactors=m, estimator=fit.options.estimator.value,
        rotation=rotation, options=opts, uniquenesses=psi, sigma=L @ Phi @ L.T + np.diag(psi),
        sample_cov=correlation, nobs=fit.nobs, vcov=None, fit_measures=fit.fit_measures(),
        converged=fit.converged, unrotated=None, sem_fit=fit,
    )  # fmt: skip


def _pair(value: dict, f: str, g: str) -> float:
    for key in ((f, "~~", g), (g, "~~", f)):
        if key in value:
            return float(value[key])
    return 0.0


def _rotation(fit, L: np.ndarray, Phi: np.ndarray) -> Rotation:
    """The block's Rotation with the fitted loadings and Φ (an identity one when unrotated)."""
    blocks = getattr(fit, "block_rotations", ())
    if blocks:
        return dataclasses.replace(blocks[0].rotation, loadings=L, factor_cor=Phi)
    m = L.shape[1]  # (lavaan's rotation "none" is not orthogonal: its summary shows Φ = I)
    return Rotation(L, np.eye(m), Phi, float("nan"), True, "none", m < 2, "none")


@dataclass(frozen=True, eq=False)
class OrderedEfaFit(EfaFit):
    """One EFA solution of ordered items: the EfaFit views, from the exploratory SEM fit
    ``sem_fit`` (its estimates include the thresholds; its fit measures the scaled tests)."""

    sem_fit: Any = None
    ntotal: int | None = None  # the rows of the data (incomplete ones included)

    @property
    def summary_estimator(self) -> str:
        """lavaan's "Estimator" line: the discrepancy (DWLS for WLSMV, ML for MLR)."""
        named = getattr(self.sem_fit.family, "summary_estimator", None)
        if named is not None:
            return named
        return "ML" if self.estimator.startswith("ML") else self.estimator

    @cached_property
    def _by_row(self) -> pd.DataFrame:
        return self.sem_fit.estimates().set_index(["lhs", "op", "rhs"])

    def _keys(self) -> list[tuple[str, str, str]]:
        """The rows of θ's entries (loadings, unique variances, Φ below the diagonal)."""
        m = self.nfactors
        keys = [(f, "=~", v) for f in self.factors for v in self.variables]
        keys += [(v, "~~", v) for v in self.variables]
        if not self.orthogonal_layout:
            keys += [(self.factors[k], "~~", self.factors[j])
                     for k in range(m) for j in range(k + 1, m)]  # fmt: skip
        return keys

    def _column(self, column: str) -> np.ndarray:
        """A column of the estimates in θ's order."""
        return self._by_row.loc[self._keys(), column].to_numpy(dtype=float)

    @cached_property
    def theta(self) -> np.ndarray:
        return self._column("est")

    @cached_property
    def theta_std(self) -> np.ndarray:
        return self._column("std_all")

    @cached_property
    def se(self) -> np.ndarray | None:
        """None without standard errors (``se=False``) and for promax (as efa() of continuous
        items)."""
        if self.sem_fit.options.se.value == "none" or self.rotation.method == "promax":
            return None
        return self._column("se")

    @cached_property
    def _standardized(self) -> pd.DataFrame:
        """lavaan's standardizedSolution() of the fit (for a rotated one its standard errors
        by forward differences through the rotation: :mod:`semlang.esem.standardized`)."""
        return self.sem_fit.standardized_solution().set_index(["lhs", "op", "rhs"])

    @cached_property
    def se_std(self) -> np.ndarray | None:
        """The standard errors of the standardized values as lavaan's standardizedSolution()."""
        if self.se is None:
            return None
        return self._standardized.loc[self._keys(), "se"].to_numpy(dtype=float)

    @property
    def thresholds(self) -> pd.Series:
        """The thresholds of the ordered items (``x1|t1``, ...)."""
        rows = self._by_row.xs("|", level="op")["est"]
        return pd.Series(rows.to_numpy(), index=[f"{v}|{t}" for v, t in rows.index])

    def estimates(self) -> pd.DataFrame:
        """lavaan's parameterEstimates of the efa() fit: the loadings, thresholds, residual
        variances (derived in the delta parameterization), factor (co)variances and the scale
        factors, with est, se, z, pvalue, std_all and se_std."""
        frame = self.sem_fit.estimates()
        keep = frame.op.isin(["=~", "|", "~~", "~*~"])
        out = frame.loc[keep, ["lhs", "op", "rhs", "est", "se", "z", "pvalue", "std_all"]]
        std = self._standardized.get("se", pd.Series(np.nan, index=self._standardized.index))
        if self.se_std is None:
            std = std.copy()
            std.loc[self._keys()] = np.nan
        keys = list(zip(out.lhs, out.op, out.rhs, strict=True))
        out["se_std"] = std.reindex(keys).to_numpy()
        # a threshold's standardized value is itself (every latent response has variance 1)
        out.loc[out.op == "|", "se_std"] = out.loc[out.op == "|", "se"]
        return out.reset_index(drop=True)


def check_ordered_options(estimator: str | None, sample_cov) -> str:
    """The estimator of an efa() of ordered items (WLSMV by default), or an OptionError."""
    from ..estimate.categorical_options import CATEGORICAL_ESTIMATORS

    if sample_cov is not None:
        raise OptionError(
            "ordered= needs the data: the thresholds and polychoric correlations are computed "
            "from the rows", hint="efa(data, nfactors=..., ordered=True)",
        )  # fmt: skip
    name = "WLSMV" if estimator is None else str(estimator).upper()
    if name not in CATEGORICAL_ESTIMATORS:
        raise OptionError(
            f"estimator={estimator!r} is not available for ordered-categorical items (lavaan "
            "0.6.14's efa() has no ML for ordered data either)",
            hint="use estimator='WLSMV' (the default for ordered items), 'DWLS', 'WLS', 'ULS' or "
            "'ULSMV', or drop ordered= to treat the items as continuous",
        )
    return name


__all__ = ["OrderedEfaFit", "check_ordered_options", "efa_syntax", "fit_ordered"]
