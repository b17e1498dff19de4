"""Exploratory SEM: models with efa blocks (``efa("b1")*f1 + efa("b1")*f2 =~ x1 + ...``),
fitted unrotated with lavaan's identification and reported rotated (:mod:`.rotate`,
:mod:`.fit`), with the rotation options of :mod:`.settings`."""

from __future__ import annotations

from typing import Any

ROTATION_OPTIONS = ("rotation", "rotation_args", "rotation_se")


def pop_rotation_options(options: dict[str, Any]) -> dict[str, Any]:
    """Take ``rotation``, ``rotation_args`` and ``rotation_se`` out of a call's options."""
    return {key: options.pop(key) for key in ROTATION_OPTIONS if key in options}


def rotated_result(fit, given: dict[str, Any]):
    """The rotated solution of a fit of a model with efa blocks (the fit itself when the model
    has none, or with ``rotation="none"``)."""
    if not fit.table.efa_sets:
        return fit
    from semlang.esem.fit import check_rotation_options, reflect_fit, rotate_fit
    from semlang.esem.settings import rotation_settings

    settings = rotation_settings(**given)
    if settings.method == "none":
        from semlang.esem import categorical

        if categorical.is_categorical(fit):  # lavaan's signs: those of its starting values
            return categorical.reflect_to_start(fit)
        return reflect_fit(fit)
    check_rotation_options(fit.options, fit.table, settings)
    return rotate_fit(fit, settings)


def check_options(given: dict[str, Any]) -> None:
    """Resolve the rotation options once before fitting, so a mistake stops early."""
    if given:
        from semlang.esem.settings import rotation_settings

        rotation_settings(**given)
