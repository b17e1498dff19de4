"""A fitted model with efa blocks -> its rotated :class:`RotatedFit`.

Input: the :class:`~semlang.results.fit.Fit` of the unrotated model (lavaan's identification of
each efa block) and the :class:`~semlang.esem.settings.RotationSettings`. Output: a
:class:`RotatedFit`, a Fit of the rotated table (:mod:`semlang.esem.rotate`) whose estimates,
standardized values and factor scores are the rotated solution's; its test statistics and fit
measures are the unrotated fit's (a rotation leaves Σ and μ as they are, and the number of free
parameters is the unrotated model's). Standard errors are lavaan's ``rotation.se = "bordered"``:
the information of the rotated parameters restricted to the null space of the Jacobian of the
rotation's first-order conditions — for the sandwich (robust) ones, their bread.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from semlang.errors import NotSupportedError, OptionError
from semlang.esem.rotate import reflect_model, rotate_model, stationarity_jacobian
from semlang.esem.settings import RotationSettings
from semlang.estimate.estimator import Estimation, build_objective
from semlang.options import StandardErrors
from semlang.partable.efa_blocks import equal_loadings
from semlang.results import inference
from semlang.results.fit import Fit


@dataclass(frozen=True, eq=False)
class RotatedFit(Fit):
    """The rotated solution of a model with efa blocks (see the module docstring)."""

    unrotated: Any = None  # (the unrotated Fit; the dataclass needs a default)
    rotation: RotationSettings | None = None
    block_rotations: tuple = ()
    equal_pairs: tuple = ()  # pairs of θ indices that are equal (θ_i − θ_j = 0)

    @cached_property
    def statistics(self):
        return self.unrotated.statistics

    @cached_property
    def inference_nobs(self) -> int:
        return self.unrotated.inference_nobs

    @cached_property
    def _fit_measures(self) -> dict[str, float]:
        return self.unrotated._fit_measures

    @cached_property
    def vcov_phi(self) -> np.ndarray:
        se = self.options.se
        if se is StandardErrors.NONE:
            return np.full((self.model.n_phi, self.model.n_phi), np.nan)
        if se is StandardErrors.STANDARD:
            return self.information_vcov_phi
        from semlang.results.sandwich import vcov_phi

        return vcov_phi(self, se)  # its bread is the bordered one (:attr:`sandwich_bread`)

    @cached_property
    def information_vcov_phi(self) -> np.ndarray:
        """(N · information)⁻¹ on the null space of the rotation's conditions (bordered)."""
        return self._bordered(self.inference_nobs)

    @cached_property
    def sandwich_bread(self) -> np.ndarray:
        """E⁻¹ per observation, bordered by the rotation's conditions (lavaan's robust
        standard errors of a rotated solution)."""
        return self.nobs * self._bordered(self.nobs)

    def standardized_delta(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """The Jacobian of the standardized values in the unrotated parameters and their
        covariance matrix: lavaan's standard errors of the standardized solution of a rotated
        model (:mod:`semlang.esem.standardized`)."""
        from semlang.esem.standardized import standardized_delta

        return standardized_delta(self, kind)

    # ordered indicators: the residual variances the std.ov variances take (see
    # semlang.esem.categorical); None: those of the parameters
    rotation_residuals = None

    def _bordered(self, nobs: int) -> np.ndarray:
        if self.rotation is not None and self.rotation.method == "promax":
            # promax minimizes no criterion: no first-order conditions border the information
            # (efa() gives promax no standard errors either)
            return np.full((self.model.n_phi, self.model.n_phi), np.nan)
        objective, phi = self.estimation.objective, self.estimation.phi
        info = inference.information_per_observation(objective, phi, self.options.information)
        space = self.model.space
        jac = stationarity_jacobian(self.model, self.theta, self.block_rotations, self.rotation,
                                    residuals=self.rotation_residuals)  # fmt: skip
        equal = np.zeros((len(self.equal_pairs), self.model.n_theta))
        for k, (i, j) in enumerate(self.equal_pairs):
            equal[k, i], equal[k, j] = 1.0, -1.0
        constraints = np.vstack([jac, equal]) @ space.jacobian(phi)
        active = inference.active_constraint_rows(space, phi)
        rows = np.vstack([constraints, active]) if active.size else constraints
        return inference.vcov_from_information(info, nobs, rows)


# first-order and bootstrap standard errors of a rotated solution are not made
_REFUSED_SE = (StandardErrors.FIRST_ORDER, StandardErrors.BOOTSTRAP)


def check_rotation_options(options, table=None, settings=None) -> None:
    """The standard errors a rotated solution has (lavaan's bordered ones: standard, none), and
    no orthogonal rotation of several groups with equal loadings (whose later groups lavaan
    fits with the factor covariances fixed to 0, a model fitted before the rotation is known)."""
    if table is not None and table.nlevels > 1:
        raise NotSupportedError(
            "rotating the efa blocks of a two-level model is not supported yet",
            hint="fit it with rotation='none' (the unrotated solution), or as one level",
        )
    if table is not None and settings.orthogonal and equal_loadings(table):
        raise NotSupportedError(
            f"an orthogonal rotation ({settings.method}) of several groups with equal loadings "
            "is not supported",
            hint="use an oblique rotation (geomin, oblimin, ...), or no group_equal loadings",
        )
    if options.se in _REFUSED_SE:
        raise OptionError(
            f"se={options.se.value!r} is not available for a model with efa blocks",
            hint="the rotated solution has standard, sandwich (robust) or no standard errors; "
            "or pass rotation='none' to keep the unrotated solution",
        )


def reflect_fit(fit: Fit) -> Fit:
    """``rotation="none"``: the unrotated solution with lavaan's signs (each factor's first
    free loading positive), a point of the same fitted model."""
    theta = reflect_model(fit.model, fit.theta, fit.estimation.objective.exo)
    if theta is None:
        return fit
    phi = fit.model.space.phi_from_theta(theta)
    estimation = dataclasses.replace(fit.estimation, theta=theta, phi=phi)
    return dataclasses.replace(fit, estimation=estimation)


def rotate_fit(fit: Fit, settings: RotationSettings) -> RotatedFit:
    """The rotated solution of ``fit`` (a model with efa blocks)."""
    from semlang.esem import categorical

    exo = fit.estimation.objective.exo
    ordered = categorical.is_categorical(fit)
    objective = fit.estimation.objective
    residuals = categorical.residual_matrices(fit.model, objective) if ordered else None
    rotated, theta, blocks, pairs = rotate_model(fit.model, fit.theta, exo, settings, residuals)
    phi = rotated.space.phi_from_theta(theta)
    objective = (categorical.rotated_objective(fit, rotated) if ordered
                 else build_objective(rotated, fit.sample, fit.options))  # fmt: skip
    estimation = Estimation(
        family=fit.estimation.family,
        objective=objective,
        optimization=fit.estimation.optimization,
        phi=phi,
        theta=theta,
        phi_start=phi,
    )
    fields = {f.name: getattr(fit, f.name) for f in dataclasses.fields(Fit)}
    fields.update(model=rotated, estimation=estimation)
    kind = categorical.RotatedCategoricalFit if ordered else RotatedFit
    return kind(
        **fields, unrotated=fit, rotation=settings, block_rotations=blocks, equal_pairs=pairs
    )
