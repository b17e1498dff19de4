"""Fit + candidate parameters -> the score-test system of the model extended by them, for each
information lavaan's ``modindices()`` and ``lavTestScore()`` accept, one- and two-level.

Input: a :class:`~semlang.results.fit.Fit`, the candidates
(:class:`~semlang.results.modindices.Candidate`) and the information type ("expected",
"observed" or "first.order"). Output: :func:`extended_system` — the half gradient of the
discrepancy F (−∇logL / N) and the information per observation in ψ = (θ, c), the model's free
parameters followed by one parameter per candidate (at its current value: the model's own fixed
value, 0 for a parameter the model leaves out, 0 as the change of a released row) — and
:func:`profiled`, which takes the model's parameters out: with T = diag(dθ/dφ, 1) the
information in (φ, c) is Tᵀ I T and

    V = I_cc − I_cφ I_φφ⁻¹ I_φc.

The information in ψ, as lavaan forms it on its extended model:

* expected: each group's (or missing-data pattern's) Fisher information of the free RAM entries;
* observed: half the analytic Hessian of F (the second derivatives of the moments included);
* first.order: Σ_g (n_g/N) Δ_gᵀ B1_g Δ_g with B1_g the cross-product of the casewise scores of
  the moments at the implied moments (lavaan's "structured" h1), Δ_g = dm_g/dψ;
* two-level: the two levels' moments and their derivatives through the two-level likelihood
  (:func:`~semlang.estimate.twolevel.twolevel_information`), expected or observed; first.order:
  the cross-product of the clusters' scores per observation
  (:func:`~semlang.estimate.twolevel_scores.first_order_information`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from semlang.compile.layout import EntryIndex
from semlang.compile.ram import ImpliedMoments, collapse
from semlang.errors import OptionError
from semlang.syntax.ast import Op

INFORMATION = ("expected", "observed", "first.order")


def check_information(information: str) -> str:
    """lavaan's name of an information type (``first_order`` is accepted for ``first.order``)."""
    name = str(information).replace("_", ".")
    if name not in INFORMATION:
        raise OptionError(
            f"unknown information '{information}'",
            hint="use 'expected', 'observed' or 'first.order'",
        )
    return name


def candidate_moments(
    moments: ImpliedMoments, cands, first: int = 0, with_model: bool = False
) -> ImpliedMoments:
    """One block's moments whose free entries are the candidates' (θ index ``first + k``), after
    the model's own (their θ index) when ``with_model``. The matrices are the model's at the
    estimates: each candidate sits at its current value, and a released row's candidate is the
    change of the row's parameter."""
    layout = moments.layout
    index = {name: i for i, name in enumerate(layout.variables)}
    model = (("A", layout.A_free), ("S", layout.S_free), ("m", layout.m_free))
    items: dict[str, list[tuple[int, int, int]]] = {
        key: list(zip(entries.rows, entries.cols, entries.theta, strict=True)) if with_model
        else [] for key, entries in model
    }  # fmt: skip
    for k, cand in enumerate(cands):
        if cand.block != layout.block:
            continue
        number = first + k
        if cand.op is Op.MEASURED:
            items["A"].append((index[cand.rhs], index[cand.lhs], number))
        elif cand.op is Op.REGRESSION:
            items["A"].append((index[cand.lhs], index[cand.rhs], number))
        elif cand.op is Op.COVARIANCE:
            i, j = sorted((index[cand.lhs], index[cand.rhs]), reverse=True)
            items["S"].append((i, j, number))
        else:
            items["m"].append((index[cand.lhs], 0, number))
    view = replace(
        layout,
        A_free=EntryIndex.build(items["A"]),
        S_free=EntryIndex.build(items["S"]),
        m_free=EntryIndex.build(items["m"]),
    )
    return ImpliedMoments(view, moments.A, moments.S, moments.m)


def extended_system(fit, cands, information: str = "expected"):
    """(g, I) in ψ = (θ, c): the half gradient of F and the information per observation."""
    information = check_information(information)
    n_ext = fit.model.n_theta + len(cands)
    views = [candidate_moments(m, cands, fit.model.n_theta, with_model=True) for m in fit.implied]
    if fit.table.nlevels > 1:
        return _twolevel_system(fit, views, n_ext, information)
    objective = fit.estimation.objective
    grad, info = np.zeros(n_ext), np.zeros((n_ext, n_ext))
    for view, disc in zip(views, objective.discrepancies, strict=True):
        _, G, g = disc.evaluate(view.sigma, view.mu, gradient=True)
        grad += view.gradient(G, g, n_ext) / 2.0
        Pa, Pb, Pc, index = view.entry_vectors()
        if information == "expected":
            entries = disc.expected_entries(view, Pa, Pb, Pc, objective.meanstructure)
        elif information == "observed":
            from semlang.estimate.objective import second_order_entries

            entries = second_order_entries(view, G, g)
            entries += disc.first_order_hessian_entries(view, Pa, Pb, Pc, objective.meanstructure)
            entries = (entries + entries.T) / 4.0
        else:
            continue
        info += collapse(entries, index, n_ext)
    if information == "first.order":
        info = _first_order(fit, views, n_ext)
    return grad, info


def _first_order(fit, views, n_ext: int) -> np.ndarray:
    """Σ_g (n_g/N) Δ_gᵀ B1_g Δ_g in ψ, B1_g the scores' cross-product at the implied moments."""
    from semlang.estimate.missing import vech_indices
    from semlang.results.robust import _first_order as moments_first_order

    out = np.zeros((n_ext, n_ext))
    for view, group in zip(views, fit.moment_groups, strict=True):
        d_sigma, d_mu = view.dsigma_dtheta(n_ext)
        rows, cols = vech_indices(group.p)
        delta = np.hstack([d_mu, d_sigma[:, rows, cols]]).T
        if not group.meanstructure:
            delta = delta[group.p :]
        out += group.weight * delta.T @ moments_first_order(group, group.sigma, group.mu) @ delta
    return out


def _twolevel_system(fit, views, n_ext: int, information: str):
    """(g, I) in ψ of a two-level model (its likelihood over the clusters)."""
    from semlang.estimate.objective import second_order_entries
    from semlang.estimate.twolevel import twolevel_gradient, twolevel_information

    objective = fit.estimation.objective
    data = objective.data
    within, between = views
    gradient = twolevel_gradient(data, within.sigma, between.sigma, between.mu, within.mu)
    c = -1.0 / data.nobs  # half of dF = −2 dℓ / N
    pairs = ((within, gradient.sigma_w, gradient.mu_w), (between, gradient.sigma_b, gradient.mu_b))
    grad = sum(view.gradient(c * s, c * m, n_ext) for view, s, m in pairs)
    d_w, dm_w = within.dsigma_dtheta(n_ext)
    d_b, dm_b = between.dsigma_dtheta(n_ext)
    moments = (within.sigma, between.sigma, within.mu, between.mu)
    derivatives = (d_w, d_b, dm_w, dm_b)
    if information == "first.order":
        from semlang.estimate.twolevel_scores import first_order_information

        return grad, first_order_information(data, moments, derivatives)
    observed = information == "observed"
    info = twolevel_information(data, moments, derivatives, observed=observed)
    if observed:
        for view, s, m in pairs:
            entries = second_order_entries(view, 2.0 * c * s, 2.0 * c * m)
            info += 0.5 * collapse((entries + entries.T) / 2.0, view.entry_vectors()[3], n_ext)
    return grad, info


def profiled(fit, grad: np.ndarray, info: np.ndarray):
    """(g_c, V): the candidates' half gradient and their information once the model's own
    parameters (φ, through θ = g(φ)) are profiled out, V = I_cc − I_cφ I_φφ⁻¹ I_φc."""
    n_theta = fit.model.n_theta
    J = fit.model.space.jacobian(fit.estimation.phi)
    I_ff = J.T @ info[:n_theta, :n_theta] @ J
    I_cf = info[n_theta:, :n_theta] @ J
    V = info[n_theta:, n_theta:] - I_cf @ np.linalg.solve(I_ff, I_cf.T)
    return grad[n_theta:], (V + V.T) / 2.0
