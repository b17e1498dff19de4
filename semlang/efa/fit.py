"""lavaan's efa(): input data (or a covariance matrix), numbers of factors, a rotation; output an
EfaList with one EfaFit per number of factors.

Each fit extracts the unrotated ML or ULS solution (:mod:`.extraction`), rotates it
(:mod:`.rotation`, the standardized loadings by default as lavaan's std.ov), computes the
standard errors of the rotated parameters (:mod:`.inference`) and the fit measures
(:mod:`.measures`). lavaan fits the same model as a SEM with an echelon-identified loading
matrix; the minimum, and so every number, is the same. Ordered items (``ordered=``) are fitted
that way, as lavaan does: :mod:`.ordered`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..blas import limited
from ..errors import DataError, IdentificationError, NotSupportedError, OptionError
from . import delta, inference
from .extraction import extract
from .measures import fit_measures
from .options import rotation_options
from .results import EfaFit, EfaList
from .rotation import Rotation, rotate

ESTIMATORS = ("ML", "ULS")
# fitted as lavaan does, as an exploratory SEM of one efa block (continuous items)
SEM_ESTIMATORS = ("MLR", "MLM", "MLMV", "MLMVS", "MLF", "GLS", "WLS", "DWLS")


@limited()  # one BLAS thread: small matrices, many calls
def efa(
    data: Any = None,
    nfactors: int | Iterable[int] = 1,
    rotation: str = "geomin",
    estimator: str | None = None,
    ordered: Any = None,
    rotation_args: dict[str, Any] | None = None,
    *,
    variables: list[str] | None = None,
    sample_cov: Any = None,
    sample_nobs: int | None = None,
    se: bool = True,
    rotation_se: str = "bordered",
    **sem_options: Any,
) -> EfaList:
    """Exploratory factor analysis as lavaan's ``efa()``.

    ``data``: a DataFrame (numeric columns, or pandas ordered Categoricals, which are taken as
    ordered; rows with a missing value are dropped, lavaan's listwise default) or None with
    ``sample_cov`` and ``sample_nobs``. ``nfactors``: an int or
    several (``range(1, 6)``). ``rotation``: none, varimax, quartimax, orthomax, oblimin,
    quartimin, geomin, promax, entropy, bentler, cf (and cf-quartimax, cf-varimax, cf-equamax,
    cf-parsimax, cf-facparsim), oblimax, target, pst, bi-quartimin, bi-geomin, infomax,
    mccammon, simplimax, tandem1, tandem2. ``estimator``: "ML" (the default) or "ULS", or (as an
    exploratory SEM, :func:`_efa_as_sem`) MLR, MLM, MLMV, MLMVS, MLF, GLS, WLS, DWLS;
    with ``ordered`` (True for every item, or the names of the ordered ones) "WLSMV" (the
    default), "DWLS", "WLS", "ULS" or another robust name (:mod:`.ordered`). ``rotation_args``:
    lavaan's names (orthogonal, row_weights, std_ov, geomin_epsilon, oblimin_gamma,
    orthomax_gamma, cf_gamma, promax_kappa, target, target_mask, rstarts, algorithm, reflect,
    order_lv_by, gpa_tol, tol, max_iter, warn) and ``seed`` for the random starts.
    ``rotation_se``: lavaan's ``rotation.se``, the standard errors of the rotated parameters
    from the information bordered by the rotation's conditions ("bordered") or by the delta
    method through the rotation ("delta", :mod:`.delta`). Other keyword arguments (``missing=
    "fiml"``, ``parameterization="theta"``, ...) go to ``sem()`` as lavaan's efa() passes them:
    the model is then fitted as an exploratory SEM of one efa block.
    """
    se_method = delta.se_method(rotation_se)
    if _has_ordered(ordered) or _ordered_columns(data, variables):
        if se_method == "delta":
            raise NotSupportedError(
                "rotation_se='delta' is not available for ordered items",
                hint="their standard errors are the robust ones with the bordered information "
                "as bread (rotation_se='bordered')",
            )
        return _efa_ordered(data, nfactors, rotation, estimator, ordered, rotation_args,
                            variables, sample_cov, se, sem_options)  # fmt: skip
    estimator = "ML" if estimator is None else str(estimator).upper()
    if estimator in SEM_ESTIMATORS or sem_options:
        return _efa_as_sem(data, nfactors, rotation, estimator, rotation_args, variables,
                           sample_cov, se, se_method, sem_options)  # fmt: skip
    if estimator not in ESTIMATORS:
        raise NotSupportedError(
            f"efa() supports the estimators {', '.join((*ESTIMATORS, *SEM_ESTIMATORS))}, "
            f"not {estimator!r}",
            hint="WLSMV, ULSMV and the other robust least-squares names are for ordered items: "
            "name them with ordered=",
        )
    options = rotation_options(rotation, rotation_args)
    options["rotation_se"] = se_method
    names, S, nobs = _moments(data, variables, sample_cov, sample_nobs, estimator)
    counts = _check_nfactors(nfactors, len(names))
    fits = {m: _fit_one(names, S, nobs, m, rotation, estimator, options, se) for m in counts}
    return EfaList(fits)


def _ordered_columns(data, variables) -> list[str]:
    """The columns of the items that are pandas ordered Categoricals (ordered without being
    named, as in cfa() and sem())."""
    if not isinstance(data, pd.DataFrame):
        return []
    names = list(variables) if variables is not None else list(data.columns)
    kinds = {c: data[c].dtype for c in names if c in data.columns}
    return [str(c) for c, kind in kinds.items()
            if isinstance(kind, pd.CategoricalDtype) and kind.ordered]  # fmt: skip


def _has_ordered(ordered) -> bool:
    if ordered is None or ordered is False:
        return False
    return ordered is True or len(list(np.atleast_1d(ordered))) > 0


def _efa_ordered(data, nfactors, rotation, estimator, ordered, rotation_args, variables,
                 sample_cov, se, sem_options) -> EfaList:  # fmt: skip
    """efa() of ordered items (:mod:`.ordered`): the checks, then one fit per number of
    factors."""
    from .ordered import check_ordered_options, fit_ordered, ordered_names

    estimator = check_ordered_options(estimator, sample_cov)
    rotation_options(rotation, rotation_args)  # a mistake stops before any fitting
    frame = _frame(data, variables)
    names = [str(c) for c in frame.columns]
    given = ordered_names(ordered, names) if _has_ordered(ordered) else []
    items = given + [c for c in _ordered_columns(frame, None) if c not in given]
    counts = _check_nfactors(nfactors, len(names))
    return fit_ordered(frame, names, items, counts, rotation, rotation_args, estimator, se,
                       sem_options)  # fmt: skip


def _efa_as_sem(data, nfactors, rotation, estimator, rotation_args, variables, sample_cov, se,
                se_method, sem_options) -> EfaList:  # fmt: skip
    """efa() of continuous items under the estimators other than ML and ULS, or with other
    options of sem() (``missing="fiml"``): as lavaan, one exploratory SEM of an efa block per
    number of factors (:func:`.ordered.fit_ordered` with no ordered item)."""
    from .ordered import fit_ordered

    if sample_cov is not None or se_method == "delta":
        raise NotSupportedError(
            f"efa(estimator={estimator!r}) needs the data rows and the bordered standard errors",
            hint="pass the data frame (not sample_cov) and rotation_se='bordered'",
        )
    rotation_options(rotation, rotation_args)  # a mistake stops before any fitting
    frame = _frame(data, variables)
    names = [str(c) for c in frame.columns]
    counts = _check_nfactors(nfactors, len(names))
    return fit_ordered(frame, names, [], counts, rotation, rotation_args, estimator, se,
                       sem_options)  # fmt: skip


def _frame(data, variables) -> pd.DataFrame:
    """The data's columns of the factor analysis (``variables``, else all)."""
    if data is None:
        raise DataError("efa() needs data, or sample_cov with sample_nobs")
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    if variables is not None:
        missing = [v for v in variables if v not in frame.columns]
        if missing:
            raise DataError(f"the data have no column {missing[0]!r}")
        frame = frame[list(variables)]
    return frame


def _moments(data, variables, sample_cov, sample_nobs, estimator):
    """Variable names, the covariance matrix (divisor N for ML, N − 1 for ULS) and N."""
    if data is None:
        if sample_cov is None or sample_nobs is None:
            raise DataError("efa() needs data, or sample_cov with sample_nobs")
        S = np.asarray(sample_cov, dtype=float)
        names = list(getattr(sample_cov, "columns", [f"x{i + 1}" for i in range(S.shape[0])]))
        nobs = int(sample_nobs)
        if estimator == "ML":
            S = S * (nobs - 1) / nobs
        return _select(names, S, variables), nobs
    frame = _frame(data, variables)
    bad = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataError(
            f"efa() needs numeric columns; {', '.join(bad)} is not numeric",
            hint="select the items with variables=[...]",
        )
    values = frame.dropna().to_numpy(dtype=float)
    nobs = values.shape[0]
    if nobs < 2:
        raise DataError("efa() needs at least two complete rows")
    S = np.cov(values.T, bias=(estimator == "ML"))
    return [str(c) for c in frame.columns], S, nobs


def _select(names, S, variables):
    if variables is None:
        return names, S
    index = [names.index(v) for v in variables]
    return list(variables), S[np.ix_(index, index)]


def max_factors(nvar: int) -> int:
    """The most factors that p variables identify (lavaan's rule: npar ≤ p(p+1)/2)."""
    pstar = nvar * (nvar + 1) / 2
    for m in range(1, nvar + 1):
        if m * nvar + m * (m + 1) / 2 + nvar - m * m > pstar:
            return m - 1
    return nvar


def _check_nfactors(nfactors, nvar: int) -> list[int]:
    counts = [int(nfactors)] if np.ndim(nfactors) == 0 else [int(m) for m in nfactors]
    if not counts or min(counts) < 1:
        raise OptionError("nfactors must be greater than zero")
    top = max_factors(nvar)
    if max(counts) > top:
        raise IdentificationError(
            f"when nvar = {nvar} the maximum number of factors is {top}",
            hint=f"{max(counts)} factors have more parameters than the {nvar} variables have "
            "variances and covariances (df < 0)",
        )
    return counts


def _fit_one(names, S, nobs, m, rotation, estimator, options, se) -> EfaFit:
    extraction = extract(S, m, estimator)
    rotate_args = {k: v for k, v in options.items() if k not in ("std_ov", "rotation_se")}
    ov_var = np.diag(extraction.sigma) if options["std_ov"] else None
    rotated = rotate(extraction.loadings, rotation, ov_var=ov_var, **rotate_args)
    psi = extraction.uniquenesses
    vcov = None
    if se and rotated.method != "promax":
        vcov = _vcov(rotated, extraction, psi, estimator, nobs, options)
    measures = fit_measures(S, extraction.sigma, nobs, m, estimator)
    return EfaFit(
        variables=tuple(names),
        nfactors=m,
        estimator=estimator,
        rotation=rotated,
        options=options,
        uniquenesses=psi,
        sigma=extraction.sigma,
        sample_cov=S,
        nobs=nobs,
        vcov=vcov,
        fit_measures=measures,
        converged=extraction.converged,
        unrotated=extraction.loadings,
    )


def _vcov(rotated: Rotation, extraction, psi, estimator, nobs, options):
    L, Phi = rotated.loadings, rotated.factor_cor
    if rotated.method == "none" or L.shape[1] < 2:
        return inference.echelon_vcov(L, psi, estimator, nobs)
    if options.get("rotation_se") == "delta":
        return delta.delta_vcov(extraction.loadings, psi, rotated, options, estimator, nobs)
    return inference.rotated_vcov(L, psi, Phi, rotated, estimator, nobs, options["std_ov"])
