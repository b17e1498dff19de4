"""Factor-score regression and structural-after-measurement, built on the public API.

(Named ``twostep`` so that ``semlang.fsr`` and ``semlang.sam`` can be the functions.)

Input: one model text (measurement and structural part together), data and options. Output:
an :class:`FsrResult` whose ``estimates()`` is the table of a fit. The model is split into its
measurement blocks and its structural part automatically (:mod:`semlang.twostep.split`).

- ``fsr(model, data, method="croon")``: "croon" (Croon's corrected score covariances, two-step
  standard errors; lavaan's ``fsr()``), "regression" / "bartlett" (naive regression on factor
  scores), "skrondal_laake" (regression scores for predictors, Bartlett scores for outcomes);
- ``sam(model, data)``: lavaan's local structural-after-measurement with two-step standard
  errors.
"""

from __future__ import annotations

from typing import Any

from semlang.blas import limited
from semlang.errors import OptionError
from semlang.twostep.result import FsrResult
from semlang.twostep.sam import sam

_METHODS = {
    "croon": "croon",
    "regression": "regression",
    "naive": "regression",
    "bartlett": "bartlett",
    "ml": "bartlett",
    "skrondal_laake": "skrondal_laake",
    "skrondal-laake": "skrondal_laake",
    "skrondal.laake": "skrondal_laake",
    "skrondallaake": "skrondal_laake",
}


@limited()
def fsr(model: str, data: Any, method: str = "croon", **options: Any) -> FsrResult:
    """Factor-score regression of the structural part of ``model``.

    ``method``: "croon" (default; Bartlett scores, corrected; ``fs_method="regression"`` scores
    by regression instead), "regression", "bartlett" or "skrondal_laake". ``options`` are those
    of ``semlang.sem``.
    """
    key = str(method).strip().lower()
    if key not in _METHODS:
        raise OptionError(
            f"unknown factor-score regression method {method!r}",
            hint="choose 'croon', 'regression', 'bartlett' or 'skrondal_laake'",
        )
    if _METHODS[key] == "croon":
        from semlang.twostep.croon import croon

        return croon(model, data, **options)
    if "fs_method" in options:
        raise OptionError("fs_method applies to method='croon' only")
    from semlang.twostep.naive import naive

    return naive(model, data, _METHODS[key], **options)


__all__ = ["FsrResult", "fsr", "sam"]
