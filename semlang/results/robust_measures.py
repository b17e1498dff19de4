"""Scaled and robust fit measures shared by every scaled test (Satorra-Bentler, Yuan-Bentler,
mean and variance adjusted, scaled and shifted), pure functions of χ², df, N and the scaling.

Input: statistics, degrees of freedom, scaling factors. Output: dicts under lavaan's names in
snake_case (``cfi``, ``tli``, ``rmsea_ci_lower`` ...; :func:`suffixed` adds ``_scaled`` or
``_robust``).
"""

from __future__ import annotations

import math

from semlang.results import measures


def scaling_factor(trace: float, df: float) -> float:
    """tr(UΓ)/df; NaN when df is 0 or the factor is not positive (as lavaan)."""
    if not df > 0 or not math.isfinite(trace):
        return math.nan
    value = trace / df
    return value if value > 0 else math.nan


def scaled_indices(stat, df, stat0, df0, rmsea_x2, rmsea_df, nobs, ngroups) -> dict:
    """The ``*_scaled`` incremental indices (of the scaled statistics of the model and the
    baseline) and the scaled RMSEA family (of ``rmsea_x2`` against ``rmsea_df``)."""
    out = suffixed("scaled", incremental(stat, df, stat0, df0))
    return out | suffixed("scaled", rmsea_scaled(rmsea_x2, rmsea_df, nobs, ngroups))


def robust_indices(df, df0, model: tuple[float, float, float, float],
                   baseline: tuple[float, float], nobs, ngroups,
                   plain_if_one: bool = True) -> dict:  # fmt: skip
    """The ``*_robust`` CFI/TLI/NNFI/RNI and RMSEA family. ``model`` is (X², c_point, X²_scaled,
    c): lavaan's robust RMSEA and CFI take X² − c_point·df, the RMSEA interval and p-values the
    scaled statistic with c; ``baseline`` is (X²_0, c_0) of the baseline model. With
    ``plain_if_one`` a factor of exactly 1 gives the plain CFI/TLI (as lavaan)."""
    x2, c_point, x2_scaled, c = model
    incremental = robust_incremental(df, df0, x2, c_point, *baseline, plain_if_one=plain_if_one)
    out = suffixed("robust", incremental)
    rmsea = rmsea_robust(x2, df, c_point, nobs, ngroups, scaled=(x2_scaled, c))
    return out | suffixed("robust", rmsea)


def suffixed(suffix: str, values: dict[str, float]) -> dict[str, float]:
    """rmsea_ci_lower + scaled -> rmsea_ci_lower_scaled, lavaan's names."""
    return {f"{key}_{suffix}": value for key, value in values.items()}


def incremental(t: float, df: float, t0: float, df0: float) -> dict[str, float]:
    """CFI, TLI (= NNFI), RNI, NFI, RFI, IFI and PNFI of a statistic and its baseline."""
    tli = measures.tli(t, df, t0, df0)
    out = {"cfi": measures.cfi(t, df, t0, df0), "tli": tli, "nnfi": tli}
    out["rni"] = ratio(t - df, t0 - df0)
    return out | normed(t, df, t0, df0)


def robust_incremental(df, df0, x2, c, x2_0, c0, plain_if_one: bool = True) -> dict[str, float]:
    """Robust CFI, TLI, NNFI and RNI (Brosseau-Savalei and Savalei): X² − c·df in place of
    X² − df, for the model and the baseline; NaN without scaling factors; the plain X² − df
    when either factor is 1 (as lavaan)."""
    if not all(math.isfinite(v) for v in (df, df0, x2, c, x2_0, c0)):
        return dict.fromkeys(("cfi", "tli", "nnfi", "rni"), math.nan)
    if not df > 0 or (plain_if_one and (c == 1.0 or c0 == 1.0)):  # lavaan: the plain X² − df
        c = c0 = 1.0
    t, t0 = x2 - c * df, x2_0 - c0 * df0
    tli = 1.0
    if df > 0 and abs(t0 * df) > 0:
        tli = 1.0 - (t * df0) / (t0 * df)
    return {"cfi": measures.cfi(t, 0.0, t0, 0.0), "tli": tli, "nnfi": tli, "rni": ratio(t, t0)}


def ratio(t1: float, t2: float) -> float:
    """1 − t1/t2, NaN when t2 is 0 or not finite (lavaan's RNI)."""
    if not (math.isfinite(t1) and math.isfinite(t2)) or abs(t2) < 1.5e-8:
        return math.nan
    return 1.0 - t1 / t2


def normed(t: float, df: float, t0: float, df0: float) -> dict[str, float]:
    """lavaan's NFI, RFI, IFI and PNFI (Bentler-Bonett, Bollen)."""
    if not all(math.isfinite(v) for v in (t, df, t0, df0)):
        return dict.fromkeys(("nfi", "rfi", "ifi", "pnfi"), math.nan)
    nfi = math.nan if df > df0 or abs(t0) < 1.5e-8 else ((t0 - t) / t0 if df > 0 else 1.0)
    rfi = math.nan if df > df0 else 1.0
    if df <= df0 and df > 0 and df0 > 0:
        t1, t2 = t0 / df0 - t / df, t0 / df0
        rfi = 1.0 if t1 < 0 or t2 < 0 else t1 / t2
    t2 = t0 - df
    ifi = 1.0 if t2 < 0 else (math.nan if abs(t2) < 1.5e-8 else (t0 - t) / t2)
    pnfi = (df / df0) * (t0 - t) / t0 if df0 > 0 and t0 > 0 else math.nan
    return {"nfi": nfi, "rfi": rfi, "ifi": ifi, "pnfi": pnfi}


def rmsea_scaled(chisq: float, trace: float, nobs: int, ngroups: int) -> dict[str, float]:
    """lavaan's scaled RMSEA family: the unscaled χ² against df = tr(UΓ)."""
    lower, upper = measures.rmsea_ci(chisq, trace, nobs, ngroups)
    return {
        "rmsea": measures.rmsea(chisq, trace, nobs, ngroups),
        "rmsea_ci_lower": lower,
        "rmsea_ci_upper": upper,
        "rmsea_pvalue": measures.rmsea_pvalue(chisq, trace, nobs, ngroups),
        "rmsea_notclose_pvalue": notclose(chisq, trace, nobs, ngroups),
    }


def rmsea_robust(x2, df, c, nobs, ngroups, scaled: tuple | None = None) -> dict:
    """Robust RMSEA (Brosseau-Savalei and Savalei): X²/c with N/c as the sample size. The
    interval and p-values use ``scaled`` = (statistic, factor) when given (lavaan's for the
    scaled-and-shifted test), else X²/c and c."""
    keys = ("rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "rmsea_notclose_pvalue")
    if df == 0:
        return dict(zip(keys, (0.0, 0.0, 0.0, math.nan, math.nan), strict=True))
    x2_scaled, c_ci = scaled if scaled is not None else (x2 / c, c)
    if not all(math.isfinite(v) for v in (x2, c, x2_scaled, c_ci)):
        return dict.fromkeys(keys, math.nan)
    point = measures.rmsea(x2 / c, df, nobs / c, ngroups)
    c, size = c_ci, nobs / c_ci
    lower, upper = measures.rmsea_ci(x2_scaled, df, nobs, ngroups)
    values = (
        point,
        math.sqrt(c) * lower,
        math.sqrt(c) * upper,
        measures.rmsea_pvalue(x2_scaled, df, size, ngroups),
        notclose(x2_scaled, df, size, ngroups),
    )
    return dict(zip(keys, values, strict=True))


def notclose(chisq: float, df: float, nobs: float, ngroups: int) -> float:
    """P(X² <= chisq) under RMSEA = 0.08: the test of not-close fit (lavaan 0.6.13+)."""
    value = measures.rmsea_pvalue(chisq, df, nobs, ngroups, close=0.08)
    return 1.0 - value if math.isfinite(value) else math.nan
