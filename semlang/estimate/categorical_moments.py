"""θ -> the model-implied statistics of a categorical model, in lavaan's WLS.obs order, and
their Jacobian.

Input: one block's parameter rows and RAM layout (the latent-response variables y* of ordered
variables are the observed variables of the RAM model), θ, the RAM-implied Σ and μ and their
derivatives. Output: σ(θ), the vector lavaan fits to its sample statistics, and dσ/dθ.

The order (lavaan's): the thresholds of each variable in turn, where a numeric variable has its
negative mean instead; with exogenous covariates x the slopes of every variable on x₁, then on
x₂, ...; the variances of the numeric variables; then the lower triangle of the correlation
(numeric: covariance) matrix without its diagonal, column by column. With covariates these are
conditional on x (lavaan's conditional.x): Σ stands for Σ_yy − Π Σ_xy, μ for μ_y − Π μ_x, with
Π = Σ_yx Σ_xx⁻¹. With Δ_j the scale factor of y*_j (1 for a numeric variable):

* threshold k of ordered j: Δ_j (τ_jk − μ_j); numeric j: −μ_j;
* slope of j on x_k: Δ_j Π_jk;
* variance of numeric j: Σ_jj;
* off the diagonal: Δ_i Δ_j Σ_ij.

In the delta parameterization Δ_j is the ``~*~`` parameter (1 in the first group) and the
residual variances of y* are derived afterwards (:func:`derived_residuals`), so that the
diagonal of Δ Σ Δ is 1; in the theta parameterization Δ_j = Σ_jj^(−1/2), the residual variances
being parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semlang.syntax.ast import Op


@dataclass(frozen=True)
class CategoricalLayout:
    """Where a block's thresholds, scale factors and statistics sit (built once)."""

    p: int  # the variables y (observed, not covariates)
    y: np.ndarray  # their positions among the RAM block's observed variables
    x: np.ndarray  # the positions of the exogenous covariates (conditional.x)
    ordered: np.ndarray  # bool per variable y
    th_var: np.ndarray  # per threshold entry: its variable (numeric: the mean's entry)
    th_theta: np.ndarray  # its θ index, −1 if fixed (or a numeric variable's mean)
    th_value: np.ndarray  # its fixed value (0 for a numeric variable's entry)
    th_names: tuple[str, ...]  # lavaan's names: "x1|t1", or "x4~1"
    scale_theta: np.ndarray  # per variable: θ index of its ~*~ parameter, −1 if fixed
    scale_value: np.ndarray  # per variable: the fixed scale (1 for numeric)
    numeric: np.ndarray  # indices of the numeric variables
    rows: np.ndarray  # off-diagonal pairs (rows[k] > cols[k]), column by column
    cols: np.ndarray
    theta_parameterization: bool

    @property
    def size(self) -> int:
        return len(self.th_var) + self.n_slopes + len(self.numeric) + len(self.rows)

    @property
    def n_slopes(self) -> int:
        return self.p * len(self.x)

    @property
    def n_free_baseline(self) -> int:
        """The statistics the independence model leaves free: thresholds, slopes, variances."""
        return self.n_thresholds + self.n_slopes + len(self.numeric)

    @property
    def n_thresholds(self) -> int:
        return len(self.th_var)

    def names(self, observed) -> list[str]:
        """lavaan's names of the statistics ("x1|t1", "x4~1", "x4~~x4", "x1~~x2")."""
        names = [observed[k] for k in self.y]
        out = list(self.th_names)
        out += [f"{names[j]}~{observed[k]}" for k in self.x for j in range(self.p)]
        out += [f"{names[j]}~~{names[j]}" for j in self.numeric]
        out += [f"{names[c]}~~{names[r]}" for r, c in zip(self.rows, self.cols, strict=True)]
        return out


def build_categorical_layout(layout, rows, options, covariates=()) -> CategoricalLayout:
    """The categorical layout of one RAM block from its parameter rows (``covariates``: the
    exogenous covariates the statistics are conditional on)."""
    everything = list(layout.observed)
    y = [k for k, name in enumerate(everything) if name not in covariates]
    x = [k for k, name in enumerate(everything) if name in covariates]
    observed = [everything[k] for k in y]
    p = len(observed)
    counts = dict(options.thresholds)
    ordered = np.array([v in counts for v in observed])
    thresholds = {(r.lhs, r.rhs): r for r in rows if r.op is Op.THRESHOLD}
    scales = {r.lhs: r for r in rows if r.op is Op.SCALING}
    th_var, th_theta, th_value, th_names = [], [], [], []
    for j, name in enumerate(observed):
        if not ordered[j]:
            th_var.append(j)
            th_theta.append(-1)
            th_value.append(0.0)
            th_names.append(f"{name}~1")
            continue
        for k in range(1, counts[name] + 1):
            row = thresholds[(name, f"t{k}")]
            th_var.append(j)
            th_theta.append(row.free - 1 if row.is_free else -1)
            th_value.append(0.0 if row.is_free else row.value)
            th_names.append(f"{name}|t{k}")
    scale_theta = np.full(p, -1, dtype=np.intp)
    scale_value = np.ones(p)
    for j, name in enumerate(observed):
        row = scales.get(name)
        if row is not None and row.is_free:
            scale_theta[j] = row.free - 1
        elif row is not None:
            scale_value[j] = row.value
    cols, rows_ = np.triu_indices(p, 1)  # (col, row) pairs with row > col, column by column
    return CategoricalLayout(
        p=p,
        y=np.array(y, dtype=np.intp),
        x=np.array(x, dtype=np.intp),
        ordered=ordered,
        th_var=np.array(th_var, dtype=np.intp),
        th_theta=np.array(th_theta, dtype=np.intp),
        th_value=np.array(th_value, dtype=float),
        th_names=tuple(th_names),
        scale_theta=scale_theta,
        scale_value=scale_value,
        numeric=np.flatnonzero(~ordered),
        rows=rows_.astype(np.intp),
        cols=cols.astype(np.intp),
        theta_parameterization=options.parameterization == "theta",
    )


def scales(cat: CategoricalLayout, theta: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Δ per variable: the ~*~ parameters (delta) or Σ_jj^(−1/2) of ordered variables (theta)."""
    if cat.theta_parameterization:
        out = np.ones(cat.p)
        o = cat.ordered
        out[o] = 1.0 / np.sqrt(np.diag(sigma)[o])
        return out
    out = cat.scale_value.copy()
    free = cat.scale_theta >= 0
    out[free] = theta[cat.scale_theta[free]]
    return out


def thresholds(cat: CategoricalLayout, theta: np.ndarray) -> np.ndarray:
    """τ per threshold entry (0 in a numeric variable's entry)."""
    out = cat.th_value.copy()
    free = cat.th_theta >= 0
    out[free] = theta[cat.th_theta[free]]
    return out


def conditional(cat: CategoricalLayout, sigma, mu):
    """(Σ_y|x, μ_y|x, Π) of the block's observed moments (Π empty without covariates)."""
    y, x = cat.y, cat.x
    if not len(x):
        return sigma[np.ix_(y, y)], mu[y], np.zeros((len(y), 0))
    pi = np.linalg.solve(sigma[np.ix_(x, x)], sigma[np.ix_(x, y)]).T
    return sigma[np.ix_(y, y)] - pi @ sigma[np.ix_(x, y)], mu[y] - pi @ mu[x], pi


def implied_vector(cat: CategoricalLayout, theta, sigma, mu) -> np.ndarray:
    """σ(θ) in lavaan's WLS.obs order (see the module docstring)."""
    sigma, mu, pi = conditional(cat, sigma, mu)
    delta = scales(cat, theta, sigma)
    j = cat.th_var
    th = delta[j] * (thresholds(cat, theta) - mu[j])
    slopes = (delta[:, None] * pi).ravel(order="F")
    var = np.diag(sigma)[cat.numeric]
    r, c = cat.rows, cat.cols
    return np.concatenate([th, slopes, var, delta[r] * delta[c] * sigma[r, c]])


def _conditional_derivatives(cat: CategoricalLayout, sigma, mu, d_sigma, d_mu):
    """d(Σ_y|x), d(μ_y|x), dΠ by θ (the covariates' own moments do not depend on θ)."""
    y, x = cat.y, cat.x
    if not len(x):
        return d_sigma[:, y][:, :, y], d_mu[:, y], np.zeros((d_sigma.shape[0], len(y), 0))
    sxx_inv = np.linalg.inv(sigma[np.ix_(x, x)])
    pi = sigma[np.ix_(y, x)] @ sxx_inv
    d_pi = d_sigma[:, y][:, :, x] @ sxx_inv
    d_syx = d_sigma[:, y][:, :, x]
    d_cond = d_sigma[:, y][:, :, y] - d_syx @ pi.T - pi @ d_syx.transpose(0, 2, 1)
    return d_cond, d_mu[:, y] - d_pi @ mu[x], d_pi


def jacobian(cat: CategoricalLayout, theta, sigma, mu, d_sigma, d_mu) -> np.ndarray:
    """dσ/dθ (statistics x θ) from dΣ/dθ (n_theta, p, p) and dμ/dθ (n_theta, p) of the
    block's observed variables."""
    n_theta = len(theta)
    d_sigma, d_mu, d_pi = _conditional_derivatives(cat, sigma, mu, d_sigma, d_mu)
    sigma, mu, pi = conditional(cat, sigma, mu)
    delta = scales(cat, theta, sigma)
    d_delta = np.zeros((n_theta, cat.p))
    if cat.theta_parameterization:
        o = np.flatnonzero(cat.ordered)
        diag = np.diag(sigma)[o]
        d_delta[:, o] = -0.5 * diag**-1.5 * d_sigma[:, o, o]
    else:
        free = np.flatnonzero(cat.scale_theta >= 0)
        np.add.at(d_delta, (cat.scale_theta[free], free), 1.0)
    j = cat.th_var
    tau = thresholds(cat, theta)
    d_tau = np.zeros((n_theta, len(j)))
    free = np.flatnonzero(cat.th_theta >= 0)
    np.add.at(d_tau, (cat.th_theta[free], free), 1.0)
    d_th = delta[j] * (d_tau - d_mu[:, j]) + (tau - mu[j]) * d_delta[:, j]
    d_slopes = delta[None, :, None] * d_pi + d_delta[:, :, None] * pi[None]
    d_slopes = d_slopes.transpose(0, 2, 1).reshape(n_theta, -1)  # column by column
    k = cat.numeric
    d_var = d_sigma[:, k, k]
    r, c = cat.rows, cat.cols
    d_cor = delta[r] * delta[c] * d_sigma[:, r, c] + sigma[r, c] * (
        d_delta[:, r] * delta[c] + delta[r] * d_delta[:, c]
    )
    return np.hstack([d_th, d_slopes, d_var, d_cor]).T


def derived_residuals(cat: CategoricalLayout, theta, sigma, mu, S_diag) -> np.ndarray:
    """Delta parameterization: the residual variance of each ordered y* that makes the diagonal
    of Δ Σ_y|x Δ one, 1/Δ_j² − (Σ_jj − θ_jj) (``S_diag``: the residual variances of the block's
    observed variables that Σ was made with)."""
    cond = conditional(cat, sigma, mu)[0]
    delta = scales(cat, theta, cond)
    o = cat.y[cat.ordered]
    out = S_diag.copy()
    out[o] = 1.0 / delta[cat.ordered] ** 2 - (np.diag(cond)[cat.ordered] - S_diag[o])
    return out
