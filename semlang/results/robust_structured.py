"""The sandwich and the traces of the robust tests of large complete-data ML models, from the
rows and Σ⁻¹ instead of matrices over all pairs of moments.

Input: a group of :mod:`semlang.results.robust` (rows, implied and sample moments, the model's
RAM entry vectors and dφ→θ Jacobian). Output: the same numbers as the dense formulas there and in
:mod:`semlang.results.robust_sem`, equal in exact arithmetic: the meat Δᵀ B1 Δ, tr(A1⁻¹ B1) of
the unrestricted model, the independence model's tr(E0⁻¹ B0), Δᵀ W Γ W Δ and the traces
tr(UΓ), tr((UΓ)²) of the Satorra-Bentler family.

A group has q = p(p+1)/2 covariance moments (20,100 at p = 200), so a moments × moments matrix
(Γ, the h1 information W, the scores' cross-product B1) takes q² · 8 bytes (3.2 GB there). Every
such matrix here is one of ML's complete-data weight W(A) = A ⊕ ½D'(A ⊗ A)D, A = Σ⁻¹ (Σ the
implied or the sample covariance matrix), sandwiched between moment vectors of rank-one form:
row i contributes z_i = (d_i, vech(d_i d_iᵀ − C)) with d_i its deviation (from μ̂ or ȳ) and C a
constant matrix (Σ̂ for the casewise scores, which are W(Σ̂⁻¹) z_i; the mean of d dᵀ for Γ's
rows, Γ = Σ z zᵀ / n). With e_i = A d_i:

* z_iᵀ W z_j = d_iᵀ A d_j + ½ tr(A Z_i A Z_j) = e_iᵀd_j + ½[(e_iᵀd_j)² − r_i − r_j + tr((AC)²)],
  r_i = e_iᵀ C e_i;
* (Δᵀ W z_i) for a RAM entry with dΣ = a bᵀ + b aᵀ, dμ = c: (aᵀe_i)(bᵀe_i) − aᵀACAb + cᵀe_i,
  summed into θ and taken to φ by the Jacobian (Δ itself, moments × parameters, is not formed).

Hence the meat of B1 and of Γ is a cross-product of n rows of parameters, tr(A1 Γ) a mean over the
rows, and tr(UΓ), tr((UΓ)²) the trace and the squared norm of an N × N matrix (Γ = Z̃ᵀZ̃ gives
tr((UΓ)²) = ‖Z̃ U Z̃ᵀ‖², used while that takes fewer operations than Γ itself). The independence
model's W0 at its diagonal Σ0 is diagonal, so its U0 is W0 without the free moments.

These hold for complete data, where :func:`applies` says so. With fixed.x covariates Γ's rows
are differences of two such rank-one terms (the data's less the fitted values'), with clusters
Γ is over the clusters' sums of the rows (pairs of rows within a cluster); the MLR pieces take
both (:func:`h1_trace`), the Satorra-Bentler ones leave them to the dense formulas. Those also
stay in use for smaller models, where they are as fast and their rounding is the one the
reference tests were made with.
"""

from __future__ import annotations

import numpy as np

from semlang.estimate.missing_patterns import vech_indices

__all__ = [
    "STRUCTURED_MIN_MOMENTS",
    "applies",
    "baseline_h0_trace",
    "gamma_meat",
    "gamma_meat_rows",
    "h1_trace",
    "sb_applies",
    "sb_baseline_traces",
    "sb_model_traces",
    "score_meat",
]

# groups with at least this many covariance moments (p = 45 variables) take the structured path
STRUCTURED_MIN_MOMENTS = 1035


def applies(group, mlr: bool = False) -> bool:
    """Whether the group's sandwich and traces are computed from its rows here: complete data,
    q at least :data:`STRUCTURED_MIN_MOMENTS`, and neither fixed.x covariates nor clusters but
    where ``mlr`` says the caller is one of the MLR pieces (which take them)."""
    q = group.p * (group.p + 1) // 2
    return (
        q >= STRUCTURED_MIN_MOMENTS
        and not group.fiml
        and (mlr or (group.cluster is None and not group.x_index.size))
        and not np.isnan(group.raw).any()
    )


def _inverse(sigma: np.ndarray) -> np.ndarray:
    from semlang.matrices import cholesky_inverse

    return cholesky_inverse(sigma)[0]


def _entry_rows(group, d: np.ndarray, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Rows Δᵀ W(A) z_i (n × n_phi), z_i = (d_i, vech(d_i d_iᵀ − C)); Δ in φ."""
    Pa, Pb, Pc, index = group.implied.entry_vectors()
    e = a @ d.T  # (A symmetric; p × n)
    values = (Pa @ e) * (Pb @ e)  # entries × rows
    values -= np.einsum("ep,ep->e", Pa @ (a @ c @ a), Pb)[:, None]
    if group.meanstructure:
        values += Pc @ e
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    starts = np.flatnonzero(np.r_[True, np.diff(sorted_index) != 0])
    by_theta = np.zeros((group.jacobian.shape[0], d.shape[0]))
    by_theta[sorted_index[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return by_theta.T @ group.jacobian


def _cross_product(group, values: np.ndarray) -> np.ndarray:
    """Σ v vᵀ / n over the rows (over the clusters' sums of them, times C/(C − 1))."""
    from semlang.results.robust import cross_product

    return cross_product(group, values)


def score_meat(group) -> np.ndarray:
    """Δᵀ B1 Δ at the implied moments: the cross-product of the casewise φ-gradients over n
    (with clusters, of their sums within the clusters)."""
    a = _inverse(group.sigma)
    return _cross_product(group, _entry_rows(group, group.raw - group.mu, a, group.sigma))


def _centred(group) -> tuple[np.ndarray, np.ndarray]:
    """The rows' deviations from the sample means and the mean of their outer products (the
    contributions behind Γ, whose divisor is n)."""
    d = group.raw - group.raw.mean(axis=0)
    return d, d.T @ d / d.shape[0]


def gamma_meat_rows(group) -> np.ndarray:
    """Rows h_i = Δᵀ W z_i (W at the implied Σ̂; z_i Γ's centred contributions): Δᵀ W Γ W Δ is
    hᵀh / n, the robust.sem meat."""
    d, s_n = _centred(group)
    return _entry_rows(group, d, _inverse(group.sigma), s_n)


def _trace_w_gamma(group, a: np.ndarray) -> float:
    """tr(W(A) Γ) = (1/n) Σ_i z_iᵀ W z_i = [tr(A S)] + ½ (mean of (d_iᵀ A d_i)² − tr((AS)²)),
    S the mean of d dᵀ (the mean of d_iᵀ A S A d_i is tr((AS)²))."""
    if group.cluster is not None:
        return _trace_w_gamma_clusters(group, a)
    if group.x_index.size:
        return _trace_w_gamma_covariates(group, a)
    d, s_n = _centred(group)
    q = np.einsum("ij,ij->i", d @ a, d)
    a_s = a @ s_n
    out = 0.5 * (float(np.mean(q * q)) - float(np.sum(a_s * a_s.T)))
    if group.meanstructure:
        out += float(np.trace(a_s))
    return out


def _fitted_deviations(group) -> np.ndarray:
    """The values fitted by the fixed.x covariates' regression (the covariates themselves in
    their columns), less their means."""
    y, x = group.raw, group.x_index
    design = np.hstack([np.ones((y.shape[0], 1)), y[:, x]])
    others = np.setdiff1d(np.arange(group.p), x)
    fitted = y.copy()
    coef, *_ = np.linalg.lstsq(design, y[:, others], rcond=None)
    fitted[:, others] = design @ coef
    return fitted - fitted.mean(axis=0)


def _trace_w_gamma_covariates(group, a: np.ndarray) -> float:
    """tr(W(A) Γ) with fixed.x covariates, whose Γ is that of the rows' contributions less
    those of the fitted values f_i: z_i = (d_i − f_i, vech(d_i d_iᵀ − f_i f_iᵀ − C)), zero on
    the covariates' own moments (so the form over all moments is the one over the others).
    With e = A d, g = A f: ½ tr(A Z A Z) = ½[(eᵀd)² + (gᵀf)² − 2(eᵀf)² − 2eᵀCe + 2gᵀCg
    + tr((AC)²)], and the means' (e − g)ᵀ(d − f)."""
    d, s_n = _centred(group)
    f = _fitted_deviations(group)
    c = s_n - f.T @ f / f.shape[0]
    e, g = d @ a, f @ a
    q_dd = np.einsum("ij,ij->i", e, d)
    q_ff = np.einsum("ij,ij->i", g, f)
    q_df = np.einsum("ij,ij->i", e, f)
    r_d = np.einsum("ij,ij->i", e @ c, e)
    r_f = np.einsum("ij,ij->i", g @ c, g)
    a_c = a @ c
    values = q_dd * q_dd + q_ff * q_ff - 2.0 * q_df * q_df - 2.0 * r_d + 2.0 * r_f
    values += float(np.sum(a_c * a_c.T))
    values *= 0.5
    if group.meanstructure:
        values += np.einsum("ij,ij->i", e - g, d - f)
    return float(np.mean(values))


def _trace_w_gamma_clusters(group, a: np.ndarray) -> float:
    """tr(W(A) Γ) with clusters, Γ = C/(C − 1) Σ_c z_c z_cᵀ / n over the clusters' sums z_c of
    the centred contributions: Σ_c z_cᵀ W z_c is the sum of ½ tr(A Z_i A Z_j) (and of
    m_iᵀ A m_j) over the pairs of rows of each cluster, with Z_i = X_i − C, X_i = d_i d_iᵀ
    (less f_i f_iᵀ with fixed.x covariates): ½[Σ tr(A X_i A X_j) − 2 n_c Σ r_i + n_c² tr((AC)²)],
    r_i = tr(A X_i A C); Σ tr(A X_i A X_j) over the pairs from the rows' n_c × n_c products, or
    from the p × p ones in a cluster of more than p rows."""
    from semlang.results.robust import _cluster_runs

    d, s_n = _centred(group)
    f = _fitted_deviations(group) if group.x_index.size else None
    c = s_n if f is None else s_n - f.T @ f / f.shape[0]
    e = d @ a
    r = np.einsum("ij,ij->i", e @ c, e)
    if f is not None:
        g = f @ a
        r -= np.einsum("ij,ij->i", g @ c, g)
    a_c = a @ c
    t = float(np.sum(a_c * a_c.T))
    order, starts, codes = _cluster_runs(group.cluster)
    rows = np.arange(len(d)) if order is None else order
    total = 0.0
    for at in np.split(rows, starts[1:]):
        squares = _pair_squares(e[at], d[at])
        if f is not None:  # (d dᵀ − f fᵀ: the cross terms count negatively)
            squares += _pair_squares(g[at], f[at]) - _pair_squares(e[at], f[at])
            squares -= _pair_squares(g[at], d[at])
        n_c = len(at)
        total += 0.5 * (squares - 2.0 * n_c * float(np.sum(r[at])) + n_c * n_c * t)
        if group.meanstructure:
            m = d[at].sum(axis=0) if f is None else (d[at] - f[at]).sum(axis=0)
            total += float(m @ a @ m)
    clusters = int(codes[-1]) + 1
    return total * clusters / (clusters - 1) / len(d)


def _pair_squares(u: np.ndarray, v: np.ndarray) -> float:
    """Σ_ij (u_iᵀ v_j)² over the rows of u and v, by whichever product is smaller."""
    if len(u) <= u.shape[1]:
        product = u @ v.T
        return float(np.sum(product * product))
    return float(np.sum((u.T @ u) * (v.T @ v)))


def h1_trace(group) -> tuple[float, int]:
    """tr(A1⁻¹ B1) = tr(A1 Γ) of the unrestricted model (A1 the expected information at the
    sample moments, which hold the n − 1 covariance matrix with likelihood='wishart') and the
    number of moments (the fixed.x covariates' own left out)."""
    is_x = np.zeros(group.p, dtype=bool)
    is_x[group.x_index] = True
    rows, cols = vech_indices(group.p)
    count = int(np.sum(~(is_x[rows] & is_x[cols])))
    if group.meanstructure:
        count += int(np.sum(~is_x))
    return _trace_w_gamma(group, _inverse(group.h1_cov)), count


def _positions(group, free: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The free moments' means (variable indices) and covariances (row and column indices)."""
    p = group.p
    at = np.flatnonzero(free)
    if group.meanstructure:
        means, at = at[at < p], at[at >= p] - p
    else:
        means = np.zeros(0, dtype=np.intp)
    rows, cols = vech_indices(p)
    return means, rows[at], cols[at]


def _scores_at(d, a, means, rows, cols) -> np.ndarray:
    """The casewise scores of the chosen moments (means, then covariances) at (Σ = A⁻¹, μ)."""
    e = d @ a
    cov = e[:, rows] * e[:, cols] - a[rows, cols]
    cov[:, rows == cols] *= 0.5
    return np.hstack([e[:, means], cov])


def _information_at(a, means, rows, cols) -> np.ndarray:
    """The expected information of the chosen moments: A (means), ½ D'(A ⊗ A)D (covariances)."""
    half = np.where(rows == cols, 0.5, 1.0)
    r, c = rows[:, None], cols[:, None]
    cov = a[c, cols] * a[r, rows] + a[c, rows] * a[r, cols]
    cov += a[r, cols] * a[c, rows] + a[r, rows] * a[c, cols]
    cov *= 0.5 * np.outer(half, half)
    k = len(means)
    out = np.zeros((k + len(rows),) * 2)
    out[:k, :k] = a[np.ix_(means, means)]
    out[k:, k:] = cov
    return out


def baseline_h0_trace(group, free: np.ndarray, sigma: np.ndarray, mu: np.ndarray) -> float:
    """tr(E0⁻¹ B0) of the independence model over its free moments ``free`` (expected
    information and the scores' cross-product at its estimates Σ0, μ0)."""
    means, rows, cols = _positions(group, free)
    a = _inverse(sigma)
    meat = _cross_product(group, _scores_at(group.raw - mu, a, means, rows, cols))
    info = _information_at(a, means, rows, cols)
    return float(np.trace(np.linalg.solve(info, meat)))


# --------------------------------------------------------------------------- Satorra-Bentler


def sb_applies(fit, groups, information) -> bool:
    """Whether the Satorra-Bentler family's meat and traces of the fit's groups are computed
    here: ML's weight (the expected h1 information) and every group structured."""
    from semlang.estimate.normal_family import NormalML
    from semlang.options import Information

    return (
        isinstance(fit.family, NormalML)
        and information is Information.EXPECTED
        and all(applies(g) for g in groups)
    )


def _rows_cheaper(groups, width: int) -> bool:
    """Whether the N × N matrix of the second trace (N² · (p + width) operations in blocks of
    bounded size, ``width`` the columns of its rows h_i) costs less than forming Γ and UΓ over
    the q moments (N q² + q³ operations, several q × q matrices held)."""
    rows = sum(g.raw.shape[0] for g in groups)
    q = sum(g.p * (g.p + 1) // 2 + (g.p if g.meanstructure else 0) for g in groups)
    p = max(g.p for g in groups)
    return float(rows) * rows * (p + width) <= float(rows) * q * q + float(q) ** 3


class _Rows:
    """A group's rows d_i (deviations from the sample means) under W(A): z_iᵀ W z_j as a
    matrix over row pairs, a block of rows at a time (see the module docstring)."""

    def __init__(self, group, a: np.ndarray, means: bool, variances: bool = True) -> None:
        self.d, s_n = _centred(group)
        self.e = self.d @ a
        self.r = np.einsum("ij,ij->i", self.e @ s_n, self.e)
        a_s = a @ s_n
        self.t = float(np.sum(a_s * a_s.T))
        self.means = means
        # without the variances' own terms (the independence model's free moments; A diagonal)
        self.v = None if variances else (self.d * self.d - np.diag(s_n)) * np.diag(a)

    def block(self, start: int, stop: int) -> np.ndarray:
        """Rows start..stop of the n × n matrix z_iᵀ W z_j."""
        g = self.e[start:stop] @ self.d.T
        out = g * g
        out -= self.r[start:stop, None]
        out -= self.r[None, :]
        out += self.t
        if self.v is not None:
            out -= self.v[start:stop] @ self.v.T
        out *= 0.5
        if self.means:
            out += g
        return out

    def trace(self) -> float:
        """The sum of the diagonal of z_iᵀ W z_j."""
        q = np.einsum("ij,ij->i", self.e, self.d)
        diagonal = 0.5 * (q * q - 2.0 * self.r + self.t)
        if self.v is not None:
            diagonal -= 0.5 * np.einsum("ij,ij->i", self.v, self.v)
        if self.means:
            diagonal += q
        return float(np.sum(diagonal))


def _chunks(n: int, width: int):
    """Row ranges of at most ~32 MB blocks of ``width`` columns."""
    step = max(1, (1 << 22) // max(width, 1))
    for start in range(0, n, step):
        yield start, min(start + step, n)


def gamma_meat(group) -> np.ndarray:
    """Δᵀ W Γ W Δ of the group (made once per fit)."""
    if "gamma_meat_rows" not in group.memo:
        group.memo["gamma_meat_rows"] = gamma_meat_rows(group)
    rows = group.memo["gamma_meat_rows"]
    return rows.T @ rows / rows.shape[0]


def sb_model_traces(groups, e_inv: np.ndarray) -> tuple[float, float] | None:
    """tr(UΓ) and tr((UΓ)²), U = V − VΔE⁻¹ΔᵀV, V = ⊕ f_g W_g, Γ = ⊕ Γ_g / f_g, as the trace
    and the squared Frobenius norm of the N × N matrix M = Z̃ U Z̃ᵀ (Γ = Z̃ᵀZ̃, Z̃ the groups'
    centred contributions times √N / n_g): M = ⊕ K_g / n_g − Q E⁻¹ Qᵀ, K_g = Z_g W_g Z_gᵀ and
    Q the rows h_i of :func:`gamma_meat_rows` times √(f_g / n_g). None where forming Γ is
    the cheaper (many more rows than moments)."""
    if not _rows_cheaper(groups, e_inv.shape[0]):
        return None
    scales, parts = [], []
    for g in groups:
        gamma_meat(g)  # (its rows, kept)
        n = g.raw.shape[0]
        scales.append(np.sqrt(g.weight / n))
        parts.append(_Rows(g, _inverse(g.sigma), g.meanstructure))
    q = np.vstack([s * g.memo["gamma_meat_rows"] for s, g in zip(scales, groups, strict=True)])
    qe = q @ e_inv
    trace = sum(part.trace() / part.d.shape[0] for part in parts)
    trace -= float(np.sum(qe * q))
    squares, offset = 0.0, 0
    for part in parts:
        n = part.d.shape[0]
        for start, stop in _chunks(n, q.shape[0]):
            block = -(qe[offset + start : offset + stop] @ q.T)
            block[:, offset : offset + n] += part.block(start, stop) / n
            squares += float(np.vdot(block, block))
        offset += n
    return trace, squares


def sb_baseline_traces(group, free, sigma) -> tuple[float, float] | None:
    """tr(U0Γ) and tr((U0Γ)²) of the independence model of one group: its W0 at the diagonal
    Σ0 is diagonal, so U0 is W0 with the free moments' (means and variances) rows and columns
    zeroed, and the traces run over the covariances' contributions only (n × n matrix). None
    where that does not hold (the covariates' block) or where forming Γ is the cheaper."""
    p = group.p
    rows, cols = vech_indices(p)
    expected = np.concatenate([np.ones(p, dtype=bool), rows == cols])
    if not group.meanstructure:
        expected = expected[p:]
    if (
        not _rows_cheaper([group], group.p)
        or np.count_nonzero(sigma - np.diag(np.diag(sigma)))
        or not np.array_equal(free, expected)
    ):
        return None
    part = _Rows(group, np.diag(1.0 / np.diag(sigma)), means=False, variances=False)
    n = part.d.shape[0]
    squares = 0.0
    for start, stop in _chunks(n, n):
        block = part.block(start, stop)
        squares += float(np.vdot(block, block))
    return part.trace() / n, squares / (n * n)
