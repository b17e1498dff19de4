"""efa()'s rotation_args: lavaan's names (with dots or underscores) checked and resolved.

Input: the rotation name and the user's dict. Output: the keyword arguments of
:func:`semlang.efa.rotation.rotate` plus ``std_ov`` (rotate the standardized loadings, lavaan's
default TRUE). lavaan's defaults are kept: oblique except for varimax and the other orthogonal
criteria, geomin ε 0.001, 30 random starts, GPA tolerance 1e-5.
"""

from __future__ import annotations

import difflib
from typing import Any

from ..errors import OptionError
from .rotation import ORTHOGONAL_ONLY, normalize_method

ROTATE_KEYS = {
    "orthogonal": "orthogonal",
    "row_weights": "row_weights",
    "geomin_epsilon": "geomin_epsilon",
    "orthomax_gamma": "orthomax_gamma",
    "cf_gamma": "cf_gamma",
    "oblimin_gamma": "oblimin_gamma",
    "promax_kappa": "promax_kappa",
    "target": "target",
    "target_mask": "target_mask",
    "rstarts": "rstarts",
    "algorithm": "algorithm",
    "reflect": "reflect",
    "order_lv_by": "order_by",
    "order_by": "order_by",
    "gpa_tol": "gpa_tol",
    "tol": "tol",
    "max_iter": "max_iter",
    "warn": "warn",
    "seed": "seed",
}
OTHER_KEYS = ("std_ov", "verbose", "jac_init_rot")


def rotation_options(rotation: str, rotation_args: dict[str, Any] | None) -> dict[str, Any]:
    """rotate()'s keyword arguments (and ``std_ov``) from lavaan-style ``rotation_args``."""
    method = normalize_method(rotation)
    out: dict[str, Any] = {"orthogonal": method in ORTHOGONAL_ONLY, "std_ov": True}
    for key, value in (rotation_args or {}).items():
        name = str(key).replace(".", "_").lower()
        if name in ROTATE_KEYS:
            out[ROTATE_KEYS[name]] = value
        elif name in OTHER_KEYS:
            out[name] = value
        else:
            known = [*ROTATE_KEYS, *OTHER_KEYS]
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            raise OptionError(
                f"unknown rotation_args entry {key!r}",
                hint=f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}",
            )
    if method == "cf" and "cf_gamma" not in out:
        out["cf_gamma"] = out.get(
            "orthomax_gamma", 1.0
        )  # lavaan 0.6.14's "cf" reads orthomax.gamma
    if method in ORTHOGONAL_ONLY:
        out["orthogonal"] = True  # lavaan forces these orthogonal
    out["orthogonal"] = bool(out["orthogonal"])
    out.pop("verbose", None)
    out.pop("jac_init_rot", None)
    out["warn"] = bool(out.get("warn", True))
    return out
