"""The rotation options of a model with efa blocks: ``rotation=`` and ``rotation_args=``.

Input: the keyword arguments of ``sem()``/``cfa()`` (lavaan's ``rotation``, ``rotation.se`` and
``rotation.args`` in snake_case: ``rotation_args={"orthogonal": True, "rstarts": 50}``).
Output: :class:`RotationSettings` with lavaan 0.6.14's defaults filled in (geomin, oblique
unless the method is orthogonal only, std.ov, geomin ε 0.001, 30 random starts, GPA tolerance
1e-5, standard errors from the bordered information). Unknown names raise an
:class:`~semlang.errors.OptionError` naming the closest one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from semlang.errors import OptionError

# lavaan's rotation.args (snake_case) and their defaults
DEFAULT_ARGS: dict[str, Any] = {
    "orthogonal": None,  # None: lavaan's default for the method
    "row_weights": "default",
    "std_ov": True,
    "geomin_epsilon": 0.001,
    "orthomax_gamma": 1.0,
    "cf_gamma": 0.0,
    "oblimin_gamma": 0.0,
    "promax_kappa": 4.0,
    "target": None,
    "target_mask": None,
    "rstarts": 30,
    "algorithm": "gpa",
    "reflect": True,
    "order_lv_by": "index",
    "gpa_tol": 1e-5,
    "tol": 1e-8,
    "max_iter": 10000,
    "warn": False,
    "seed": 0,
}
# rotation_args names of the rotation function that differ from lavaan's
_RENAMED = {"order_lv_by": "order_by"}
_IGNORED = ("verbose", "jac_init_rot")  # lavaan's, with no effect here


@dataclass(frozen=True)
class RotationSettings:
    method: str = "geomin"
    se: str = "bordered"
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def orthogonal(self) -> bool:
        return bool(self.args["orthogonal"])

    @property
    def std_ov(self) -> bool:
        return bool(self.args["std_ov"])

    def rotate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`semlang.efa.rotation.rotate` (besides ov_var)."""
        return {_RENAMED.get(k, k): v for k, v in self.args.items() if k != "std_ov"}


def rotation_settings(rotation: Any = "geomin", rotation_args: Any = None, rotation_se: Any = None):
    """Resolve the options (lavaan's defaults filled in)."""
    from semlang.efa.rotation import default_orthogonal, normalize_method

    method = normalize_method(rotation if rotation is not None else "geomin")
    se = "bordered" if rotation_se is None else str(rotation_se).lower()
    if se != "bordered":
        raise OptionError(
            f"rotation_se={rotation_se!r} is not available",
            hint="semlang computes the standard errors of rotated parameters in models with "
            "efa blocks as lavaan's default, rotation_se='bordered' (efa() also has 'delta')",
        )
    if not isinstance(rotation_args, dict | type(None)):
        raise OptionError("rotation_args must be a dict", hint='e.g. {"rstarts": 50}')
    given = dict(rotation_args or {})
    args = dict(DEFAULT_ARGS)
    for key, value in given.items():
        name = str(key).replace(".", "_")
        if name in _IGNORED:
            continue
        if name not in DEFAULT_ARGS:
            close = difflib.get_close_matches(name, list(DEFAULT_ARGS), n=1)
            raise OptionError(
                f"unknown rotation_args entry {key!r}",
                hint=f"did you mean {close[0]!r}?" if close else "see lavaan's rotation.args",
            )
        args[name] = value
    if args["orthogonal"] is None or default_orthogonal(method):
        args["orthogonal"] = default_orthogonal(method)
    if method == "promax":
        args["rstarts"] = 0
    if method == "cf" and not any(str(k).replace(".", "_") == "cf_gamma" for k in given):
        args["cf_gamma"] = args["orthomax_gamma"]  # lavaan 0.6.14's "cf" reads orthomax.gamma
    return RotationSettings(method, se, args)
