"""Correlations of pairs from each case's likelihood: polyserial, Pearson, and polychoric given
exogenous covariates.

Input: the stage-one fits (:class:`~semlang.categorical.univariate.Univariate`) of the two
variables of each pair, stacked as n x P arrays (each case's standardized bounds of an ordered
variable, its standardized residual of a continuous one), and the covariates. Output: a
:class:`~semlang.categorical.polychoric_pairs.PairResult` per kind of pair — the correlations (the
maximum of the pair's likelihood with the stage-one parameters fixed) and, when Γ asks for them
(``detail()``), each case's score of the correlation and the A21 sums: score of rho times the
bivariate likelihood's score of each stage-one parameter of either variable, in that variable's
own parameter order (thresholds or intercept, slopes, [variance]).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from semlang.categorical.bvn import bvn_cdf, bvn_pdf, bvn_pdf_drho_ratio
from semlang.categorical.polychoric_pairs import (
    TINY,
    PairResult,
    warn_not_converged,
)
from semlang.categorical.solve import maximize_rho

SQRT_2PI = np.sqrt(2.0 * np.pi)


def _npdf(x):
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.exp(-0.5 * x * x) / SQRT_2PI
    return np.where(np.isfinite(x), out, 0.0)


def _finite(x):
    """x with infinite bounds replaced by 0 (where a density factor of 0 multiplies them)."""
    return np.where(np.isfinite(x), x, 0.0)


def _stack(unis, idx, attribute):
    return np.column_stack([getattr(unis[i], attribute) for i in idx])


def _numeric_derivative(score_sum):
    """First and (central-difference) second derivatives of a summed casewise score."""

    def derivatives(rho, active):
        step = 1e-6
        grad = score_sum(rho, active)
        hess = (score_sum(rho + step, active) - score_sum(rho - step, active)) / (2 * step)
        return grad, hess

    return derivatives


def _a21(scores, own_scores_of_pair, m: int) -> np.ndarray:
    """(P, m) sums over cases of the rho score times each parameter score of one side."""
    return np.einsum("np,npm->pm", scores, own_scores_of_pair[..., :m])


# ---- polychoric with covariates (casewise rectangles) -----------------------------------------


def _rectangle(l1, u1, l2, u2, rho):
    r = rho[None, :]
    prob = bvn_cdf(u1, u2, r) - bvn_cdf(l1, u2, r) - bvn_cdf(u1, l2, r) + bvn_cdf(l1, l2, r)
    phi = bvn_pdf(u1, u2, r) - bvn_pdf(l1, u2, r) - bvn_pdf(u1, l2, r) + bvn_pdf(l1, l2, r)
    return prob, phi


def _rect_second(l1, u1, l2, u2, rho):
    r = rho[None, :]

    def term(h, k):
        finite = np.isfinite(h) & np.isfinite(k)
        hh, kk = np.where(finite, h, 0.0), np.where(finite, k, 0.0)
        return bvn_pdf(h, k, r) * bvn_pdf_drho_ratio(hh, kk, r)

    return term(u1, u2) - term(l1, u2) - term(u1, l2) + term(l1, l2)


def polychoric_casewise(unis, first, second, exo, names) -> PairResult:
    """Polychoric correlations given the covariates, from each case's rectangle probability."""
    use = _stack(unis, first, "observed") & _stack(unis, second, "observed")
    bounds = [
        np.where(use, _stack(unis, idx, attr), 0.0)
        for idx in (first, second)
        for attr in ("lower", "upper")
    ]
    l1, u1, l2, u2 = bounds

    def derivatives(rho, active):
        sel = (slice(None), active)
        prob, phi = _rectangle(l1[sel], u1[sel], l2[sel], u2[sel], rho)
        good = use[sel] & (prob > TINY)
        ratio = np.where(good, phi / np.where(good, prob, 1.0), 0.0)
        second_ = np.where(good, _rect_second(l1[sel], u1[sel], l2[sel], u2[sel], rho), 0.0)
        hess = (second_ / np.where(good, prob, 1.0) - ratio * ratio).sum(0)
        return ratio.sum(0), hess

    start = np.zeros(len(first))
    rho, ok = maximize_rho(derivatives, start, 0.999)
    warn_not_converged(ok, names)

    def detail():
        prob, phi = _rectangle(l1, u1, l2, u2, rho)
        good = use & (prob > TINY)
        safe = np.where(good, prob, 1.0)
        scores = np.where(good, phi / safe, 0.0)
        r = np.sqrt(1.0 - rho * rho)[None, :]
        a21 = []
        for (lo, up), (lo_o, up_o), idx in (
            ((l1, u1), (l2, u2), first),
            ((l2, u2), (l1, u1), second),
        ):
            up_f, lo_f = _finite(up), _finite(lo)
            z_up = _npdf(up) * (ndtr((up_o - rho * up_f) / r) - ndtr((lo_o - rho * up_f) / r))
            z_lo = _npdf(lo) * (ndtr((up_o - rho * lo_f) / r) - ndtr((lo_o - rho * lo_f) / r))
            z_up, z_lo = np.where(good, z_up / safe, 0.0), np.where(good, z_lo / safe, 0.0)
            a21.append(_ordered_cross(unis, idx, scores, z_up, z_lo, exo))
        return scores, a21[0], a21[1]

    return PairResult(rho, np.zeros(len(first), dtype=bool), detail)


def _ordered_cross(unis, idx, scores, z_up, z_lo, exo) -> np.ndarray:
    """A21 of the ordered side: thresholds (upper +, lower -) then slopes (-x (z_up - z_lo))."""
    nth = max(unis[i].nth for i in idx)
    nexo = 0 if exo is None else exo.shape[1]
    out = np.zeros((len(idx), nth + nexo))
    for p, i in enumerate(idx):
        y = unis[i].y
        k = unis[i].nth
        su, sl = scores[:, p] * z_up[:, p], scores[:, p] * z_lo[:, p]
        out[p, :k] += np.bincount(y[y >= 0], weights=su[y >= 0], minlength=k + 1)[:k]
        has_lo = y >= 1
        out[p, :k] -= np.bincount(y[has_lo] - 1, weights=sl[has_lo], minlength=k)[:k]
        if nexo:
            out[p, k : k + nexo] = -(np.nan_to_num(exo) * (su - sl)[:, None]).sum(0)
    return out


# ---- polyserial: continuous first, ordered second ---------------------------------------------


def polyserial(unis, first, second, exo, names) -> PairResult:
    """Polyserial correlations of (continuous first[p], ordered second[p])."""
    use = _stack(unis, first, "observed") & _stack(unis, second, "observed")
    z = np.where(use, _stack(unis, first, "z"), 0.0)
    lo = np.where(use, _stack(unis, second, "lower"), 0.0)
    up = np.where(use, _stack(unis, second, "upper"), 1.0)

    def pieces(rho, sel):
        r = np.sqrt(1.0 - rho * rho)[None, :]
        zs = z[sel]
        t_up = (up[sel] - rho * zs) / r
        t_lo = (lo[sel] - rho * zs) / r
        prob = ndtr(t_up) - ndtr(t_lo)
        prob = np.maximum(prob, np.finfo(float).eps)
        return r, zs, t_up, t_lo, prob

    def score_sum(rho, active):
        sel = (slice(None), active)
        r, zs, t_up, t_lo, prob = pieces(rho, sel)
        return np.where(
            use[sel], _serial_rho_score(rho, r, zs, up[sel], lo[sel], t_up, t_lo, prob), 0.0
        ).sum(0)

    start = _serial_start(unis, first, second, use, z)
    rho, ok = maximize_rho(_numeric_derivative(score_sum), start, 0.995)
    warn_not_converged(ok, names)

    def detail():
        every = (slice(None), slice(None))
        r, zs, t_up, t_lo, prob = pieces(rho, every)
        scores = np.where(use, _serial_rho_score(rho, r, zs, up, lo, t_up, t_lo, prob), 0.0)
        f_up, f_lo = _npdf(t_up), _npdf(t_lo)
        sd = np.sqrt(np.array([unis[i].var for i in first]))[None, :]
        var = sd * sd
        diff = f_up - f_lo
        d_mu = np.where(use, (zs + rho * diff / (r * prob)) / sd, 0.0)
        d_var = np.where(use, ((zs * zs - 1.0) + rho * zs * diff / (r * prob)) / (2.0 * var), 0.0)
        nexo = 0 if exo is None else exo.shape[1]
        x = np.zeros((len(z), 0)) if not nexo else np.nan_to_num(exo)
        cont = np.concatenate(
            [
                (scores * d_mu)[..., None].sum(0)[:, :],
                np.einsum("np,nk->pk", scores * d_mu, x),
                (scores * d_var).sum(0)[:, None],
            ],
            axis=1,
        )
        # the ordered side: d log-lik / d bound = density of the standardized bound / (r prob)
        g_up = np.where(use, f_up / (r * prob), 0.0)
        g_lo = np.where(use, f_lo / (r * prob), 0.0)
        ordinal = _ordered_cross(unis, second, scores, g_up, g_lo, exo)
        return scores, cont, ordinal

    return PairResult(rho, np.zeros(len(first), dtype=bool), detail)


def _serial_rho_score(rho, r, z, up, lo, t_up, t_lo, prob):
    f_up, f_lo = _npdf(t_up), _npdf(t_lo)
    up_term = np.where(np.isfinite(up), f_up * (np.where(np.isfinite(up), up, 0.0) * rho - z), 0.0)
    lo_term = np.where(np.isfinite(lo), f_lo * (np.where(np.isfinite(lo), lo, 0.0) * rho - z), 0.0)
    return (up_term - lo_term) / (prob * r**3)


def _serial_start(unis, first, second, use, z):
    """lavaan's start: the Pearson correlation times sd(y) / sum of threshold densities."""
    start = np.zeros(len(first))
    for p, j in enumerate(second):
        m = use[:, p]
        y = unis[j].y[m].astype(float)
        if m.sum() < 3 or y.std() == 0:
            continue
        cor = np.corrcoef(z[m, p], y)[0, 1]
        value = cor * y.std() / _npdf(unis[j].th).sum()
        if np.isfinite(value):
            start[p] = value / 2 if abs(value) > 0.9 else value
    return np.clip(start, -0.99, 0.99)


# ---- Pearson: two continuous variables ---------------------------------------------------------


def pearson(unis, first, second, exo, names) -> PairResult:
    """Correlations of continuous pairs: of the residuals with complete data, else the bivariate
    normal maximum with the stage-one means and variances fixed (lavaan's, under pairwise)."""
    use = _stack(unis, first, "observed") & _stack(unis, second, "observed")
    z1 = np.where(use, _stack(unis, first, "z"), 0.0)
    z2 = np.where(use, _stack(unis, second, "z"), 0.0)

    def score(rho, z1, z2, use):
        big_r = 1.0 - rho * rho
        q = z1 * z1 - 2.0 * rho * z1 * z2 + z2 * z2
        return np.where(use, rho / big_r + z1 * z2 / big_r - q * rho / big_r**2, 0.0)

    if use.all():
        rho = (z1 * z2).sum(0) / np.sqrt((z1 * z1).sum(0) * (z2 * z2).sum(0))
    else:

        def score_sum(rho, active):
            return score(rho[None, :], z1[:, active], z2[:, active], use[:, active]).sum(0)

        n = use.sum(0)
        start = np.where(n > 0, (z1 * z2).sum(0) / np.maximum(n, 1), 0.0)
        rho, ok = maximize_rho(_numeric_derivative(score_sum), np.clip(start, -0.99, 0.99), 0.999)
        warn_not_converged(ok, names)

    def detail():
        scores = score(rho[None, :], z1, z2, use)
        big_r = (1.0 - rho * rho)[None, :]
        sd1 = np.sqrt(np.array([unis[i].var for i in first]))[None, :]
        sd2 = np.sqrt(np.array([unis[i].var for i in second]))[None, :]
        nexo = 0 if exo is None else exo.shape[1]
        x = np.zeros((len(z1), 0)) if not nexo else np.nan_to_num(exo)
        sides = []
        for za, zb, sa in ((z1, z2, sd1), (z2, z1, sd2)):
            d_mu = np.where(use, (za - rho * zb) / (sa * big_r), 0.0)
            d_var = np.where(
                use, -(0.5 - (za * za - rho * za * zb) / (2.0 * big_r)) / (sa * sa), 0.0
            )
            sides.append(
                np.concatenate(
                    [
                        (scores * d_mu).sum(0)[:, None],
                        np.einsum("np,nk->pk", scores * d_mu, x),
                        (scores * d_var).sum(0)[:, None],
                    ],
                    axis=1,
                )
            )
        return scores, sides[0], sides[1]

    return PairResult(rho, np.zeros(len(first), dtype=bool), detail)
