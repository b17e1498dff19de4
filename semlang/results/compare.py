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
heading is in ``frame.attrs["heading"]``. Fits with mean and variance adjusted or
scaled-and-shifted tests (MLMVS, MLMV; lavaan's "satorra.2000") are refused.
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

__all__ = ["lrt"]

_METHODS = ("default", "satorra.bentler.2001")
_NEGATIVE = np.finfo(float).eps ** (1 / 3)


def lrt(*fits, names: Sequence[str] | None = None, method: str = "default") -> pd.DataFrame:
    """The χ² difference test of nested models (lavaan's ``lavTestLRT``).

    ``names`` labels the rows (default ``model1``, ``model2``, ... in the order given);
    ``method`` is ``"default"`` (the standard test, or with MLR fits the Satorra-Bentler (2001)
    scaled difference) or ``"satorra.bentler.2001"``.
    """
    fits, names = _checked(fits, names, method)
    scaled = _scaled(fits)
    order = sorted(range(len(fits)), key=lambda k: _measure(fits[k], "df"))
    fits = [fits[k] for k in order]
    names = [names[k] for k in order]
    table = {
        "Df": [_measure(f, "df") for f in fits],
        "AIC": [_measure(f, "aic") for f in fits],
        "BIC": [_measure(f, "bic") for f in fits],
        "Chisq": [_measure(f, "chisq") for f in fits],
    }
    chisq, df = np.array(table["Chisq"], dtype=float), np.array(table["Df"], dtype=float)
    delta = np.concatenate([[np.nan], np.diff(chisq)])
    df_delta = np.concatenate([[np.nan], np.diff(df)])
    _check_nesting(delta)
    if scaled:
        delta = np.array([np.nan] + [_sb2001(a, b) for a, b in itertools.pairwise(fits)])
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
        'Scaled Chi-Squared Difference Test (method = "satorra.bentler.2001")'
        if scaled
        else "Chi-Squared Difference Test"
    )
    return frame


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
    second_order = {Test.MEAN_VAR_ADJUSTED, Test.SCALED_SHIFTED}
    if any(f.options.scaled_test in second_order for f in fits):
        raise NotSupportedError(
            "the scaled difference test of mean and variance adjusted or scaled-and-shifted "
            "tests (lavaan's method 'satorra.2000') is not computed yet", None, None,
            hint="fit the models with estimator='MLM' (Satorra-Bentler) or 'MLR'",
        )  # fmt: skip
    if any(robust) and not all(
        r or _measure(f, "df") == 0 for r, f in zip(robust, fits, strict=True)
    ):
        raise OptionError(
            "some models (but not all) have scaled test statistics (estimator='MLR')",
            hint="fit all models with the same estimator",
        )
    return any(robust)


def _measure(fit, name: str) -> float:
    return fit.fit_measures()[name]


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
