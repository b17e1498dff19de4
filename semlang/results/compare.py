"""Fits of nested models -> the likelihood-ratio (χ² difference) test, lavaan's ``lavTestLRT()``.

Input: two or more :class:`~semlang.results.fit.Fit` s of nested models on the same data (for
example the steps of a measurement-invariance study: configural, equal loadings, equal
intercepts). Output: a DataFrame with one row per model, sorted by degrees of freedom as lavaan
sorts them, with the columns ``Df``, ``AIC``, ``BIC``, ``Chisq``, ``Chisq diff``, ``RMSEA``,
``Df diff`` and ``Pr(>Chisq)``; each row is tested against the row above it.

With robust (MLR, MLM) fits the difference is lavaan's default scaled difference test
(``method = "satorra.bentler.2001"``): for models 1 (fewer df, r1) and 0 (more df, r0) with
unscaled statistics T1, T0 and scaling factors c1, c0 (of the fits' first scaled test),
cd = (r0·c0 − r1·c1)/(r0 − r1) and the statistic is (T0 − T1)/cd on r0 − r1 df. The ``Chisq``
column keeps the unscaled statistics and there is no RMSEA column, as in lavaan. The test's
heading is in ``frame.attrs["heading"]``.

With mean and variance adjusted or scaled-and-shifted tests (MLMVS, MLMV), or asked for with
``method = "satorra.2000"``, the difference is Satorra's (2000) scaled-and-shifted test
(:mod:`semlang.results.satorra2000`): (T0 − T1)·a + b on r0 − r1 df, with the scale a and
shift b of each row in ``frame.attrs["scale"]`` and ``frame.attrs["shift"]`` (lavaan's "scale"
and "shift" attributes). It needs the raw data of complete-data, single-level fits of the
Satorra-Bentler family (MLM, MLMV, MLMVS).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from semlang.errors import DataError, NotSupportedError, OptionError, SemlangWarning
from semlang.options import Test
from semlang.results import measures
from semlang.results.fit import Fit
from semlang.results.satorra2000 import satorra_2000

__all__ = ["lrt"]

_METHODS = ("default", "satorra.bentler.2001", "satorra.2000")
_SECOND_ORDER = frozenset({Test.MEAN_VAR_ADJUSTED, Test.SCALED_SHIFTED})
_SATORRA_BENTLER_FAMILY = _SECOND_ORDER | {Test.SATORRA_BENTLER}
_NEGATIVE = np.finfo(float).eps ** (1 / 3)


def lrt(*fits, names: Sequence[str] | None = None, method: str = "default") -> pd.DataFrame:
    """The χ² difference test of nested models (lavaan's ``lavTestLRT``).

    ``names`` labels the rows (default ``model1``, ``model2``, ... in the order given);
    ``method`` is ``"default"`` (the standard test; with MLM or MLR fits the Satorra-Bentler
    (2001) scaled difference, with MLMV or MLMVS fits Satorra's (2000)),
    ``"satorra.bentler.2001"`` or ``"satorra.2000"``.
    """
    fits, names = _checked(fits, names, method)
    scaled = _scaled(fits)
    order = sorted(range(len(fits)), key=lambda k: _measure(fits[k], "df"))
    fits = tuple(fits[k] for k in order)
    names = [names[k] for k in order]
    method = _resolved(method, scaled, fits[0])
    table: dict[str, list[float] | np.ndarray] = {
        "Df": [_measure(f, "df") for f in fits],
        "AIC": [_measure(f, "aic") for f in fits],
        "BIC": [_measure(f, "bic") for f in fits],
        "Chisq": [_measure(f, "chisq") for f in fits],
    }
    chisq, df = np.array(table["Chisq"], dtype=float), np.array(table["Df"], dtype=float)
    delta = np.concatenate([[np.nan], np.diff(chisq)])
    df_delta = np.concatenate([[np.nan], np.diff(df)])
    _check_nesting(delta)
    shifted = None
    if method == "satorra.bentler.2001":
        delta = np.array([np.nan] + [_sb2001(a, b) for a, b in itertools.pairwise(fits)])
    elif method == "satorra.2000":
        shifted = [satorra_2000(a, b, t1, t0, d) for a, b, t1, t0, d in zip(
            fits, fits[1:], chisq, chisq[1:], df_delta[1:], strict=False)]  # fmt: skip
        delta = np.array([np.nan] + [s.stat for s in shifted])
    table["Chisq diff"] = delta
    if not scaled:
        ntotal, ngroups = _nobs_groups(fits[order.index(0)])
        table["RMSEA"] = [np.nan] + [
            measures.rmsea(d, k, ntotal, ngroups)
            for d, k in zip(delta[1:], df_delta[1:], strict=True)
        ]
    table["Df diff"] = df_delta
    with np.errstate(invalid="ignore"):
        pvalue = np.where(df_delta > 0, stats.chi2.sf(delta, np.where(df_delta > 0, df_delta, 1)),
                          np.nan)  # fmt: skip
    if np.any(df_delta[1:] == 0):
        warnings.warn("some models have the same degrees of freedom", SemlangWarning, stacklevel=2)
    table["Pr(>Chisq)"] = pvalue
    frame = pd.DataFrame(table, index=pd.Index(names, name="model"))
    frame.attrs["heading"] = (
        f'Scaled Chi-Squared Difference Test (method = "{method}")'
        if scaled
        else "Chi-Squared Difference Test"
    )
    if shifted is not None:
        frame.attrs["scale"] = [math.nan] + [s.scale for s in shifted]
        frame.attrs["shift"] = [math.nan] + [s.shift for s in shifted]
    return frame


def _resolved(method: str, scaled: bool, first) -> str:
    """The difference test lavaan runs: the standard one without scaled tests; by default
    Satorra (2000) for second-order scaled tests (MLMV, MLMVS), else Satorra-Bentler (2001)."""
    if not scaled:
        if method != "default":
            warnings.warn(
                f"method={method!r} but the fits have no scaled test statistics; the standard "
                "chi-square difference test is used", SemlangWarning, stacklevel=3,
            )  # fmt: skip
        return "default"
    test = first.options.scaled_test
    if method == "default":
        return "satorra.2000" if test in _SECOND_ORDER else "satorra.bentler.2001"
    if method == "satorra.bentler.2001" and test in _SECOND_ORDER:
        raise NotSupportedError(
            "the Satorra-Bentler (2001) difference of mean and variance adjusted or "
            "scaled-and-shifted tests is not computed (their difference test is "
            "'satorra.2000')", None, None,
            hint="use method='default' or method='satorra.2000'",
        )  # fmt: skip
    if method == "satorra.2000":
        _check_satorra_2000(first, test)
    return method


def _check_satorra_2000(fit, test) -> None:
    """Satorra (2000) needs Γ from complete raw data of a single-level fit of the MLM family."""
    why = None
    if test not in _SATORRA_BENTLER_FAMILY:
        why = "is computed for fits with Satorra-Bentler type tests (MLM, MLMV, MLMVS) only"
    elif fit.table.options.missing.is_fiml:
        why = "needs the ADF Γ of complete data, which FIML fits do not have"
    elif fit.table.nlevels > 1 or fit.table.options.cluster is not None:
        why = "is not computed for clustered or two-level data"
    if why is not None:
        raise NotSupportedError(
            f"the scaled difference test method='satorra.2000' {why}", None, None,
            hint="use method='default'",
        )  # fmt: skip


def _nobs_groups(fit) -> tuple[int, int]:
    """(total N, number of groups) of a fit."""
    return fit.nobs, len(fit.sample.groups)


def _checked(fits, names, method):
    if len(fits) == 1 and isinstance(fits[0], (list, tuple)):
        fits = tuple(fits[0])
    if len(fits) < 2:
        raise OptionError(
            "lrt needs two or more fits of nested models",
            hint="e.g. semlang.lrt(configural, metric, scalar)",
        )
    for k, fit in enumerate(fits, start=1):
        if not isinstance(fit, Fit):
            raise OptionError(
                f"lrt compares fitted models, but argument {k} is a {type(fit).__name__}",
                hint="pass the results of semlang.sem()/cfa()/growth()",
            )
    if method not in _METHODS:
        raise OptionError(
            f"lrt method {method!r} is not available; choose one of "
            + ", ".join(repr(m) for m in _METHODS)
        )
    names = list(names) if names is not None else [f"model{k + 1}" for k in range(len(fits))]
    if len(names) != len(fits) or len(set(names)) != len(names):
        raise OptionError(f"give {len(fits)} distinct names, one per fit (got {names!r})")
    nobs = {f.nobs for f in fits}
    if len(nobs) > 1:
        raise DataError(
            "the fits use different data (N = " + ", ".join(str(f.nobs) for f in fits) + ")",
            hint="compare models fitted to the same rows",
        )
    if len({frozenset(f.table.observed) for f in fits}) > 1:
        warnings.warn(
            "some models are based on a different set of observed variables",
            SemlangWarning,
            stacklevel=3,
        )
    if len({f.table.meanstructure for f in fits}) > 1:
        raise OptionError(
            "some models (but not all) have a mean structure",
            hint="fit all models with the same meanstructure option",
        )
    if not all(f.converged for f in fits):
        warnings.warn("not all models converged", SemlangWarning, stacklevel=3)
    return list(fits), names


def _scaled(fits) -> bool:
    robust = [f.options.scaled_test is not None for f in fits]
    if any(robust) and not all(
        r or _measure(f, "df") == 0 for r, f in zip(robust, fits, strict=True)
    ):
        raise OptionError(
            "some models (but not all) have scaled test statistics (estimator='MLR')",
            hint="fit all models with the same estimator",
        )
    return any(robust)


def _measure(fit, name: str) -> float:
    return fit.fit_measures().get(name, math.nan)  # (least squares: no AIC, BIC)


def _scaling_factor(fit) -> float:
    """The scaling factor of the fit's first scaled test (Satorra-Bentler or Yuan-Bentler)."""
    values = fit.fit_measures()
    for key in ("chisq_scaling_factor", "scaling_factor"):
        if key in values:
            return values[key]
    from semlang.results.robust import scaled_test

    return scaled_test(fit, values)["scaling_factor"]


def _sb2001(less, more) -> float:
    """Satorra-Bentler (2001) scaled difference of ``more`` (restricted) against ``less``."""
    t1, r1 = _measure(less, "chisq"), _measure(less, "df")
    t0, r0 = _measure(more, "chisq"), _measure(more, "df")
    c1 = 1.0 if r1 == 0 else _scaling_factor(less)
    c0 = _scaling_factor(more)
    if r0 == r1:
        return t0 - t1
    cd = (r0 * c0 - r1 * c1) / (r0 - r1)
    if not cd >= 0:
        warnings.warn(
            "the scaling factor of the difference test is negative", SemlangWarning, stacklevel=4
        )
        return math.nan
    return (t0 - t1) / cd


def _check_nesting(delta: np.ndarray) -> None:
    if np.any(delta[1:] < -_NEGATIVE):
        warnings.warn(
            "some restricted models fit better than less restricted models; either these "
            "models are not nested, or the less restricted model failed to reach a global "
            f"optimum (smallest difference {np.nanmin(delta[1:]):.4g})",
            SemlangWarning,
            stacklevel=3,
        )
