"""Standard errors of a rotated EFA solution by the delta method (lavaan's ``rotation.se =
"delta"``), and the Jacobian through the rotation that lavaan's standardized standard errors use
as well.

Input: the unrotated (echelon) loadings A and unique variances ψ, the Rotation that produced the
rotated solution, efa()'s rotation options, the estimator and N. Output: the covariance matrix
of the rotated θ (the layout of :mod:`.inference`: vec Λ, ψ, the lower triangle of Φ) as J V Jᵀ,
with V the covariance of the echelon parameters x (loading (i, k) with i < k fixed at 0, the
others and ψ free) and J the Jacobian of θ(x) by forward differences (numDeriv's "simple"
method, as lavaan: step 0.005 for ``rotation.se = "delta"``, 0.001 in standardizedSolution()).
Every point x is rotated again from the final rotation matrix (one start, GPA to the same
tolerance) and its columns reflected and ordered, as lavaan's ``lav_model_efa_rotate_x``.
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from .inference import echelon_vcov, pack, standardized
from .rotation import Rotation, rerotate

SE_METHODS = ("bordered", "delta")
DELTA_STEP = 0.005  # lavaan's numDeriv step for rotation.se = "delta"


def se_method(value) -> str:
    """lavaan's ``rotation.se`` checked: "bordered" (the default) or "delta"."""
    name = "bordered" if value is None else str(value).strip().lower()
    if name not in SE_METHODS:
        raise OptionError(
            f"rotation_se must be 'bordered' or 'delta', not {value!r}",
            hint="'bordered' (lavaan's default) borders the information matrix with the "
            "rotation's conditions; 'delta' carries the unrotated parameters' covariance "
            "through the rotation",
        )
    return name


def jacobian(unrotated, psi, rotation: Rotation, options: dict, eps: float,
             standardize: bool = False) -> np.ndarray:  # fmt: skip
    """∂θ/∂x of the rotated parameters θ (standardized if ``standardize``) in the echelon
    parameters x, by forward differences of step ``eps`` (columns of fixed x are 0)."""
    p, m = unrotated.shape
    fixed = [k * p + i for k in range(m) for i in range(k)]
    free = np.delete(np.arange(p * m + p), fixed)
    x = pack(unrotated, psi, np.eye(m), True)
    points = np.repeat(x[None, :], free.size + 1, axis=0)
    points[np.arange(1, free.size + 1), free] += eps
    loadings = points[:, : p * m].reshape(-1, m, p).transpose(0, 2, 1)
    psis = points[:, p * m :]
    ov_var = np.sum(loadings * loadings, axis=2) + psis
    L, Phi = rerotate(loadings, rotation, ov_var if options["std_ov"] else None, options)
    layout = rotation.orthogonal or m < 2
    values = pack(L, psis, Phi, layout)
    if standardize:
        values = standardized(values, p, m, layout)
    J = np.zeros((values.shape[1], x.size))
    J[:, free] = ((values[1:] - values[0]) / eps).T
    return J


def delta_vcov(unrotated, psi, rotation: Rotation, options: dict, estimator: str, nobs: int,
               eps: float = DELTA_STEP) -> np.ndarray:  # fmt: skip
    """The covariance of the rotated θ by the delta method (see the module docstring)."""
    V = echelon_vcov(unrotated, psi, estimator, nobs)
    J = jacobian(unrotated, psi, rotation, options, eps)
    return J @ V @ J.T
