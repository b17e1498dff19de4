"""The rotation lines of the summary of a model with efa blocks (lavaan's print of a summary).

Input: a fit (rotated, or fitted with ``rotation="none"``). Output: (name, value) rows: the
rotation method and whether it is oblique, its parameter (geomin ε, oblimin γ, ...), the
algorithm with its number of random starts, whether the standardized loadings were rotated and
the row weights.
"""

from __future__ import annotations

# the parameter lavaan prints for a method: (line, rotation_args name)
_PARAMETER = {
    "geomin": ("Geomin epsilon", "geomin_epsilon"),
    "orthomax": ("Orthomax gamma", "orthomax_gamma"),
    "cf": ("Crawford-Ferguson gamma", "cf_gamma"),
    "oblimin": ("Oblimin gamma", "oblimin_gamma"),
    "promax": ("Promax kappa", "promax_kappa"),
}


def rotation_rows(fit) -> list[tuple[str, str]]:
    settings = getattr(fit, "rotation", None)
    if settings is None:
        return [("Rotation method", "NONE")]
    kind = "ORTHOGONAL" if settings.orthogonal else "OBLIQUE"
    rows = [("Rotation method", f"{settings.method.upper()} {kind}")]
    if settings.method in _PARAMETER:
        line, name = _PARAMETER[settings.method]
        rows.append((line, f"{settings.args[name]:g}"))
    rotation = fit.block_rotations[0].rotation if fit.block_rotations else None
    algorithm = "promax" if settings.method == "promax" else settings.args["algorithm"]
    rows.append(
        ("Rotation algorithm (rstarts)", f"{algorithm.upper()} ({settings.args['rstarts']})")
    )
    rows.append(("Standardized metric", "TRUE" if settings.std_ov else "FALSE"))
    weights = rotation.row_weights if rotation is not None else settings.args["row_weights"]
    rows.append(("Row weights", weights[:1].upper() + weights[1:]))
    return rows
