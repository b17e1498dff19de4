"""Factor rotation as lavaan 0.6.14 does it: input an unrotated loading matrix, output a Rotation.

``rotate(A, "geomin")`` finds the rotation matrix T that minimizes a criterion Q (see
:mod:`semlang.efa.criteria`) of the rotated loadings: Λ = A·T with TᵀT = I (orthogonal) or
Λ = A·T⁻ᵀ with diag(TᵀT) = 1 and factor correlations Φ = TᵀT (oblique), so that ΛΦΛᵀ = AAᵀ.
It minimizes by gradient projection (Jennrich 2001, 2002; Bernaards & Jennrich 2005) from
``rstarts`` random starting rotations (reproducible from ``seed``) and keeps the best, or by
lavaan's pairwise line searches (``algorithm="pairwise"``); promax is varimax followed by a
power target. Then, as lavaan, every column whose loadings sum to a negative number is reflected
and the factors are ordered by the average row index of their largest loadings.

The defaults are lavaan's ``rotation.args``: oblique except for varimax (and entropy, mccammon,
tandem1/2), row weights Kaiser for varimax and promax and none otherwise, geomin ε = 0.001,
30 random starts, GPA tolerance 1e-5. lavaan rotates the standardized loadings (std.ov): pass
the indicators' model-implied variances as ``ov_var`` to do the same.

:func:`stationarity` gives the conditions a rotated solution satisfies (lavaan's
``lav_model_efa_rotate_border_x``), which the standard errors of the rotated parameters use as
equality constraints of a bordered information matrix.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConvergenceWarning, OptionError
from . import criteria
from .gpa import gpa as _gpa
from .gpa import rotated as _rotated

ORTHOGONAL_ONLY = ("varimax", "entropy", "mccammon", "tandem1", "tandem2")
ALIASES = {
    "bi-quartimin": "biquartimin",
    "bi-geomin": "bigeomin",
    "crawford-ferguson": "cf",
    "crawford.ferguson": "cf",
    "crawfordferguson": "cf",
    "crawfer": "cf",
}
METHODS = ("none", "promax", *criteria.CRITERIA, *criteria.CF_KAPPA)
ROW_WEIGHTS = ("default", "none", "kaiser", "cureton-mulaik")


@dataclass(frozen=True)
class Rotation:
    """A rotated solution.

    ``loadings`` (p × m) = A·T (orthogonal) or A·T⁻ᵀ (oblique); ``rotation_matrix`` T (m × m,
    columns already reflected and ordered like the loadings); ``factor_cor`` Φ = TᵀT (the
    identity for an orthogonal rotation); ``criterion`` the minimized value (NaN for promax and
    none); ``converged`` whether the chosen start converged; ``order`` the column of the
    unordered solution each factor came from (0-based); ``iterations`` of the chosen start.
    """

    loadings: np.ndarray
    rotation_matrix: np.ndarray
    factor_cor: np.ndarray
    criterion: float
    converged: bool
    method: str
    orthogonal: bool
    row_weights: str
    order: tuple[int, ...] = ()
    iterations: int = 0
    params: dict = field(default_factory=dict, repr=False)


def normalize_method(method: str) -> str:
    """lavaan's name for a rotation (lower case, aliases resolved), or an OptionError."""
    name = str(method).strip().lower()
    name = ALIASES.get(name, name)
    if name not in METHODS:
        close = difflib.get_close_matches(name, [*METHODS, *ALIASES], n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}?" if close else None
        raise OptionError(
            f"unknown rotation {method!r}; the rotations are {', '.join(METHODS)}", hint=hint
        )
    return name


def default_orthogonal(method: str) -> bool:
    """lavaan's default: orthogonal for varimax, entropy, mccammon and tandem1/2, else oblique."""
    return normalize_method(method) in ORTHOGONAL_ONLY


def rotate(
    loadings: np.ndarray,
    method: str = "geomin",
    *,
    orthogonal: bool | None = None,
    row_weights: str = "default",
    ov_var: np.ndarray | None = None,
    geomin_epsilon: float = 0.001,
    orthomax_gamma: float = 1.0,
    cf_gamma: float = 0.0,
    oblimin_gamma: float = 0.0,
    promax_kappa: float = 4.0,
    target: np.ndarray | None = None,
    target_mask: np.ndarray | None = None,
    rstarts: int = 30,
    algorithm: str = "gpa",
    reflect: bool = True,
    order_by: str = "index",
    gpa_tol: float = 1e-5,
    tol: float = 1e-8,
    max_iter: int = 10000,
    seed: int | np.random.Generator | None = 0,
    start: np.ndarray | None = None,
    warn: bool = True,
) -> Rotation:
    """Rotate the loadings ``loadings`` (p × m) by ``method``; see the module docstring.

    ``orthogonal`` None takes lavaan's default for the method (varimax etc. are always
    orthogonal, with a warning if oblique is asked). ``row_weights``: "default" (Kaiser for
    varimax/promax, else none), "none", "kaiser" or "cureton-mulaik". ``ov_var``: the
    indicators' variances, given to rotate the standardized loadings (lavaan's std.ov) and
    scale back. ``target`` (p × m, NaN = free, which makes "target" a "pst" rotation) and
    ``target_mask`` (1 = specified) for target/pst. ``rstarts`` random starting rotations
    (0: start from ``start`` or the identity), drawn from ``seed`` (an int or a numpy
    Generator). ``algorithm`` "gpa" or "pairwise". ``order_by``: "index" (lavaan), "sumofsquares"
    or "none". A ConvergenceWarning names the method when no start converged (``warn``).
    """
    A = np.array(loadings, dtype=float, ndmin=2)
    p, m = A.shape
    name = normalize_method(method)
    if orthogonal is None:
        orthogonal = name in ORTHOGONAL_ONLY
    elif not orthogonal and name in ORTHOGONAL_ONLY and warn:
        warnings.warn(
            f"rotation {name!r} may not work with oblique rotation", ConvergenceWarning, 2
        )
    weights_kind = _row_weights_kind(row_weights, name)
    params = _criterion_params(
        name, p, m, geomin_epsilon, orthomax_gamma, cf_gamma, oblimin_gamma, target, target_mask
    )
    if name == "target" and np.isnan(params["target"]).any():
        name = "pst"
        params["target_mask"] = (~np.isnan(params["target"])).astype(float)
    if m < 2 or name == "none":
        return Rotation(A, np.eye(m), np.eye(m), float("nan"), True, name, orthogonal,
                        weights_kind, tuple(range(m)), 0, params)  # fmt: skip
    scale = np.ones(p) if ov_var is None else np.sqrt(np.asarray(ov_var, dtype=float))
    A = A / scale[:, None]
    weights = row_weight_vector(A, weights_kind)
    Aw = A * weights[:, None]
    if name == "promax":
        L, T, Phi = _promax(A, promax_kappa, weights_kind == "kaiser")
        value, converged, iterations = float("nan"), True, 0
    else:
        crit = _criterion_function(name)
        T, value, converged, iterations = _best_start(
            Aw, crit, params, orthogonal, algorithm, rstarts, seed, start,
            gpa_tol, tol, max_iter,
        )  # fmt: skip
        if not converged and warn:
            starts = f"from any of the {rstarts} random starts" if rstarts > 0 else ""
            warnings.warn(
                f"the {name} rotation ({'gpa' if algorithm == 'gpa' else algorithm}) did not "
                f"converge after {max_iter} iterations {starts}".rstrip(),
                ConvergenceWarning,
                2,
            )
        L = Aw @ T if orthogonal else np.linalg.solve(T, Aw.T).T
        L = L / weights[:, None]
        Phi = np.eye(m) if orthogonal else T.T @ T
    L = L * scale[:, None]
    L, T, Phi, order = _reflect_and_order(L, T, Phi, orthogonal, reflect, order_by)
    return Rotation(L, T, Phi, value, converged, name, orthogonal, weights_kind, order,
                    iterations, params)  # fmt: skip


def rerotate(loadings, rotation: Rotation, ov_var, options: dict):
    """Rotate a stack of loading matrices (n × p × m) with ``rotation``'s method, each from
    ``rotation.rotation_matrix`` by one GPA run (lavaan's rotation inside its numerical
    Jacobians), then reflect and order each: returns the stacks of loadings and Φ."""
    A = np.array(loadings, dtype=float)
    n, p, m = A.shape
    if m < 2:
        return A, np.ones((n, 1, 1))
    scale = np.ones((n, p)) if ov_var is None else np.sqrt(np.asarray(ov_var, dtype=float))
    A = A / scale[..., None]
    weights = row_weight_vector(A, rotation.row_weights)
    Aw = A * weights[..., None]
    crit = _criterion_function(rotation.method)
    starts = np.broadcast_to(rotation.rotation_matrix, (n, m, m))
    with np.errstate(all="ignore"):
        T, *_ = _gpa(Aw, crit, rotation.params, rotation.orthogonal, starts,
                     options.get("gpa_tol", 1e-5), options.get("max_iter", 10000))  # fmt: skip
    L = _rotated(Aw, T, rotation.orthogonal) / weights[..., None] * scale[..., None]
    Phi = np.broadcast_to(np.eye(m), (n, m, m)) if rotation.orthogonal else (
        np.swapaxes(T, -1, -2) @ T)  # fmt: skip
    out_L, out_Phi = np.empty_like(L), np.empty_like(Phi)
    order_by, reflect = options.get("order_by", "index"), options.get("reflect", True)
    for j in range(n):
        out_L[j], _, out_Phi[j], _ = _reflect_and_order(
            L[j], T[j], Phi[j], rotation.orthogonal, reflect, order_by
        )
    return out_L, out_Phi


def _row_weights_kind(row_weights: str, name: str) -> str:
    kind = str(row_weights).lower().replace(".", "-")
    if kind == "cm":
        kind = "cureton-mulaik"
    if kind not in ROW_WEIGHTS:
        raise OptionError(
            f"row_weights must be one of {', '.join(ROW_WEIGHTS)}, not {row_weights!r}"
        )
    if kind == "default":
        kind = "kaiser" if name in ("varimax", "promax") else "none"
    return kind


def _criterion_params(name, p, m, eps, orthomax_gamma, cf_gamma, oblimin_gamma, tgt, mask):
    params: dict[str, Any] = {
        "geomin_epsilon": float(eps),
        "orthomax_gamma": float(orthomax_gamma),
        "cf_gamma": float(cf_gamma),
        "oblimin_gamma": float(oblimin_gamma),
    }
    if name in criteria.CF_KAPPA:
        params["cf_gamma"] = criteria.CF_KAPPA[name](p, m)
    if name in ("target", "pst"):
        params["target"] = _check_matrix(tgt, "target", p, m)
    if name == "pst":
        if mask is None and tgt is not None:  # NaN in the target marks the free entries
            mask = (~np.isnan(np.array(tgt, dtype=float, ndmin=2))).astype(float)
        params["target_mask"] = _check_matrix(mask, "target_mask", p, m)
    return params


def _check_matrix(matrix, what: str, p: int, m: int) -> np.ndarray:
    if matrix is None:
        raise OptionError(f"the {what} rotation needs a {what} matrix ({p} × {m})",
                          hint=f"pass rotation_args={{'{what}': ...}}")  # fmt: skip
    out = np.array(matrix, dtype=float, ndmin=2)
    if out.shape != (p, m):
        raise OptionError(
            f"the {what} matrix is {out.shape[0]} × {out.shape[1]}, but the loadings are "
            f"{p} × {m} (one row per indicator, one column per factor)"
        )
    return out


def _criterion_function(name: str) -> criteria.Criterion:
    return criteria.CRITERIA["cf" if name in criteria.CF_KAPPA else name]


def row_weight_vector(A: np.ndarray, kind: str) -> np.ndarray:
    """Row weights of the (standardized) loadings: ones, Kaiser's 1/‖row‖, or Cureton-Mulaik
    (A one matrix or a stack: one weight per row of each)."""
    if kind == "none":
        return np.ones(A.shape[:-1])
    kaiser = 1.0 / np.sqrt(np.sum(A * A, axis=-1))
    if kind == "kaiser":
        return kaiser
    # Cureton-Mulaik: down-weight rows by the angle to the first principal axis of AAᵀ
    m = A.shape[-1]
    values, vectors = np.linalg.eigh(A @ np.swapaxes(A, -1, -2))
    first = vectors[..., -1] * np.sqrt(values[..., -1:])
    a_star = np.abs(first * kaiser)
    bound = np.arccos(1.0 / np.sqrt(m))
    delta = np.where(a_star < 1.0 / np.sqrt(m), np.pi / 2.0, 0.0)
    angle = (bound - np.arccos(np.clip(a_star, -1.0, 1.0))) / (bound - delta) * (np.pi / 2.0)
    return (np.cos(angle) ** 2 + 0.001) * kaiser


def random_rotation(m: int, rng: np.random.Generator) -> np.ndarray:
    """A random orthogonal m × m matrix (Q of the QR decomposition of a normal matrix)."""
    q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    return q


def _best_start(A, crit, params, orthogonal, algorithm, rstarts, seed, start, gpa_tol, tol,
                max_iter):  # fmt: skip
    """The best of the starts: a converged start beats one that did not, then the lower Q."""
    if algorithm not in ("gpa", "pairwise"):
        raise OptionError(f"algorithm must be 'gpa' or 'pairwise', not {algorithm!r}")
    m = A.shape[1]
    if rstarts > 0:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        starts = np.stack([random_rotation(m, rng) for _ in range(rstarts)])
    else:
        starts = (np.eye(m) if start is None else np.asarray(start, dtype=float))[None]
    with np.errstate(all="ignore"):
        if algorithm == "gpa":
            T, Q, converged, iterations = _gpa(A, crit, params, orthogonal, starts, gpa_tol,
                                               max_iter)  # fmt: skip
        else:
            results = [_pairwise(A, crit, params, orthogonal, T0, tol, max_iter) for T0 in starts]
            T = np.stack([r[0] for r in results])
            Q, converged, iterations = (np.array([r[k] for r in results]) for k in (1, 2, 3))
    Q = np.where(np.isfinite(Q), Q, np.inf)
    best = int(np.lexsort((Q, ~converged))[0])
    return T[best], float(Q[best]), bool(converged[best]), int(iterations[best])


def _pairwise(A, crit, params, orthogonal, T0, tol, max_iter):
    """lavaan's pairwise algorithm: line searches in each plane of two factors in turn."""
    m = A.shape[1]
    L = _rotated(A, T0, orthogonal)
    Phi = None if orthogonal else T0.T @ T0
    pairs = [(i, j) for i in range(m) for j in range(i + 1, m)]
    planes = pairs if orthogonal else pairs + [(j, i) for i, j in pairs]
    Q_old = Q = crit(L, **params)[0]
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007
        for c1, c2 in planes:
            L = _pairwise_step(L, Phi, c1, c2, crit, params)
        Q = crit(L, **params)[0]
        if abs(Q_old - Q) < tol:
            converged = True
            break
        Q_old = Q
    # the rotation matrix that maps A to L in the least-squares sense
    Tt_inv = np.linalg.solve(A.T @ A, A.T @ L)
    T = Tt_inv if orthogonal else np.linalg.inv(Tt_inv.T)
    return T, float(Q), converged, iteration


def _pairwise_step(L, Phi, c1, c2, crit, params):
    """The best planar rotation (or, with Φ, oblique shear) of factors c1, c2; updates Φ."""
    from scipy.optimize import minimize_scalar

    m = L.shape[1]
    xatol = {"xatol": np.finfo(float).eps ** 0.25}
    if Phi is None:

        def planar(t):
            return _plane_rotation(m, c1, c2, t)

        bounds = (-np.pi / 4, np.pi / 4)
    else:
        phi = Phi[c1, c2]

        def planar(t):
            return _plane_shear(m, c1, c2, t, phi)

        bounds = (-1.0, 1.0)
    best = minimize_scalar(
        lambda t: crit(L @ planar(t), **params)[0], bounds=bounds, method="bounded", options=xatol
    ).x
    if Phi is not None:
        gamma = np.sqrt(abs(1.0 + 2.0 * best * phi + best * best))
        Phi[c1, :] = Phi[c1, :] / gamma + (best / gamma) * Phi[c2, :]
        Phi[:, c1] = Phi[c1, :]
        Phi[c1, c1] = 1.0
    return L @ planar(best)


def _plane_rotation(m, c1, c2, theta):
    R = np.eye(m)
    R[c1, c1] = R[c2, c2] = np.cos(theta)
    R[c1, c2] = np.sin(theta)
    R[c2, c1] = -np.sin(theta)
    return R


def _plane_shear(m, c1, c2, delta, phi):
    R = np.eye(m)
    R[c1, c1] = np.sqrt(abs(1.0 + 2.0 * delta * phi + delta * delta))
    R[c1, c2] = -delta
    return R


def kaiser_varimax(A: np.ndarray, normalize: bool = True, eps: float = 1e-5):
    """Kaiser's varimax by successive SVDs (as R's stats::varimax): loadings and rotation."""
    p, m = A.shape
    norms = np.sqrt(np.sum(A * A, axis=1)) if normalize else np.ones(p)
    x = A / norms[:, None]
    T = np.eye(m)
    d = 0.0
    for _ in range(1000):
        z = x @ T
        B = x.T @ (z**3 - z * (np.sum(z * z, axis=0) / p))
        U, s, Vt = np.linalg.svd(B)
        T = U @ Vt
        d_past, d = d, float(np.sum(s))
        if d < d_past * (1.0 + eps):
            break
    return (x @ T) * norms[:, None], T


def _promax(A, kappa, normalize):
    """Promax: varimax, then the least-squares fit to the power-κ target (R's stats::promax)."""
    V, Tv = kaiser_varimax(A, normalize=normalize)
    target_ = V * np.abs(V) ** (kappa - 1.0)
    U = np.linalg.lstsq(V, target_, rcond=None)[0]
    d = np.diag(np.linalg.inv(U.T @ U))
    U = U * np.sqrt(d)
    L = V @ U
    rotmat = Tv @ U
    # T with L = A·T⁻ᵀ, so that Φ = TᵀT = (rotmatᵀ rotmat)⁻¹
    T = np.linalg.inv(rotmat).T
    return L, T, T.T @ T


def _reflect_and_order(L, T, Phi, orthogonal, reflect, order_by):
    L, T, Phi = L.copy(), T.copy(), Phi.copy()
    if reflect:
        negative = L.sum(axis=0) < 0
        if negative.any():
            L[:, negative] *= -1.0
            T[:, negative] *= -1.0
            if not orthogonal:
                Phi = T.T @ T
    m = L.shape[1]
    if order_by == "sumofsquares":
        order = np.argsort(-np.sum(L * L, axis=0), kind="stable")
    elif order_by == "index":
        absL = np.abs(L)
        big = absL >= 0.8 * absL.max(axis=0)
        rows = np.arange(1, L.shape[0] + 1)[:, None]
        average = (big * rows).sum(axis=0) / big.sum(axis=0)
        order = np.argsort(average, kind="stable")
    elif order_by == "none":
        order = np.arange(m)
    else:
        raise OptionError(f"order_by must be 'index', 'sumofsquares' or 'none', not {order_by!r}")
    return L[:, order], T[:, order], Phi[np.ix_(order, order)], tuple(int(i) for i in order)


def stationarity(
    loadings: np.ndarray,
    factor_cor: np.ndarray,
    rotation: Rotation,
    ov_var: np.ndarray | None = None,
) -> np.ndarray:
    """The conditions a rotated solution satisfies, zero at the optimum (lavaan's bordered SEs).

    With A the rotated loadings (standardized by ``ov_var`` and row-weighted as in
    ``rotation``) and Z = Aᵀ ∂Q/∂A: orthogonal, the strict lower triangle of Z − Zᵀ; oblique,
    the off-diagonal entries of Z − diag(Z)·Φ (entry ij is Z_ij − Z_ii Φ_ij). Differentiated in
    the loadings, unique variances and factor correlations, they border the information matrix
    of the rotated parameters. Not defined for promax (lavaan gives it no standard errors).
    ``loadings``, ``factor_cor`` and ``ov_var`` may be stacks: one row of conditions each.
    """
    A = np.array(loadings, dtype=float, ndmin=2)
    m = A.shape[-1]
    if ov_var is not None:
        A = A / np.sqrt(np.asarray(ov_var, dtype=float))[..., None]
    A = A * row_weight_vector(A, rotation.row_weights)[..., None]
    _, Gq = _criterion_function(rotation.method)(A, **rotation.params)
    Z = np.swapaxes(A, -1, -2) @ Gq
    rows, cols = np.tril_indices(m, -1)
    if rotation.orthogonal:
        return Z[..., rows, cols] - Z[..., cols, rows]
    D = Z - np.diagonal(Z, axis1=-2, axis2=-1)[..., :, None] * factor_cor
    return np.concatenate([D[..., rows, cols], D[..., cols, rows]], axis=-1)
