"""Gradient projection rotation (GPA; Jennrich 2001, 2002; Bernaards & Jennrich 2005) of many
starting rotations at once, with lavaan 0.6.14's steps and stopping rule.

Input: the loadings A (p × m, or a stack n × p × m, one per start), a criterion of
:mod:`semlang.efa.criteria` with its parameters, orthogonal or oblique, a stack of starting
rotation matrices T (n × m × m), the tolerance and the most iterations. Output: per start the
final T, its criterion value Q, whether it converged and its number of iterations.

Each start takes lavaan's steps: project the gradient on the tangent space at T, double the
step length α, halve it (at most 1000 times) until Q falls by at least ½α‖Gp‖², and stop when
‖Gp‖ < ``gpa_tol``. All starts run together as one stack, and the starts that are still moving
are the only ones kept in it; the halvings of a line search are tried several at a time (the
step lengths α, α/2, α/4, ... in one stacked evaluation, the first one accepted taken), which
takes the same steps as trying them one after the other. Oblique rotations take the inverse of
each candidate T once, for its loadings A·T⁻ᵀ and for the gradient.
"""

from __future__ import annotations

import numpy as np

# how many step lengths a line search tries at once: in its first round (oblique steps are
# nearly always accepted within the first five halvings; an orthogonal candidate costs an SVD;
# many loading matrices at once, each start its own, make the candidates' arithmetic count more)
# and in each later one (the few starts that need more)
FIRST_ROUND = {(False, False): 5, (True, False): 2, (False, True): 3, (True, True): 2}
LATER_ROUNDS = 4
MAX_HALVINGS = 1000
HALVES = 0.5 ** np.arange(MAX_HALVINGS + 1)
COND_LIMIT = 1e10  # an oblique T this ill-conditioned has factors collapsing onto each other
_add = np.add.reduce  # np.sum without its Python wrapper (the same sums)


def rotated(A, T, orthogonal: bool, T_inv=None):
    """The loadings A·T (orthogonal) or A·T⁻ᵀ (oblique); A and T one matrix or stacks."""
    if orthogonal:
        return A @ T
    if T_inv is None:
        T_inv = np.linalg.inv(T)
    return A @ T_inv.swapaxes(-1, -2)


def gradient(A, L, Gq, orthogonal: bool, T_inv):
    """The gradient of Q(rotated loadings) in T: AᵀGq (orthogonal) or −T⁻ᵀGqᵀL (oblique)."""
    if orthogonal:
        return A.swapaxes(-1, -2) @ Gq
    return -(T_inv.swapaxes(-1, -2) @ (Gq.swapaxes(-1, -2) @ L))


def project(T, G, orthogonal: bool):
    """The gradient projected on the tangent space of the rotations at T."""
    if orthogonal:
        M = T.swapaxes(-1, -2) @ G
        return G - T @ ((M + M.swapaxes(-1, -2)) / 2.0)
    return G - T * _add(T * G, axis=-2, keepdims=True)


def _retract(X, orthogonal: bool):
    """The candidate rotation from T − αGp: its polar factor (orthogonal) or its columns
    scaled to length 1 (oblique)."""
    if orthogonal:
        U, _, Vt = np.linalg.svd(X)
        return U @ Vt
    return X / np.sqrt(_add(X * X, axis=-2, keepdims=True))


def _evaluate(A, T, crit, params, orthogonal):
    """Loadings, Q, its gradient dQ/dL and T⁻¹ (oblique) of a stack of rotations T
    (any leading shape); A one matrix or a stack matching T's leading axes."""
    T_inv = None if orthogonal else np.linalg.inv(T)
    L = rotated(A, T, orthogonal, T_inv)
    shape = L.shape
    Q, Gq = crit(L.reshape(-1, *shape[-2:]), **params)
    return L, np.asarray(Q, dtype=float).reshape(shape[:-2]), Gq.reshape(shape), T_inv


def gpa(A, crit, params, orthogonal: bool, T, gpa_tol: float, max_iter: int):
    """GPA from every start of the stack T at once (see the module docstring): returns the
    stacks T, Q, converged and iterations."""
    T = np.array(T, dtype=float)
    n = T.shape[0]
    A = np.asarray(A, dtype=float)
    stacked = A.ndim == 3
    L, Q, Gq, T_inv = _evaluate(A, T, crit, params, orthogonal)
    G = gradient(A, L, Gq, orthogonal, T_inv)
    out_T, out_Q = T.copy(), Q.copy()
    converged = np.zeros(n, dtype=bool)
    iterations = np.zeros(n, dtype=int)
    alpha = np.ones(n)
    index = np.arange(n)  # the starts still moving, in the order of the stack
    for iteration in range(max_iter + 1):
        Gp = project(T, G, orthogonal)
        frob2 = _add(Gp * Gp, axis=(-2, -1))
        done = np.sqrt(frob2) < gpa_tol
        if done.any():
            iterations[index[done]] = iteration
            converged[index[done]] = True
            out_T[index[done]], out_Q[index[done]] = T[done], Q[done]
            keep = ~done
            index, T, Q, Gp, frob2, alpha = (x[keep] for x in (index, T, Q, Gp, frob2, alpha))
            A = A[keep] if stacked else A
            if index.size == 0:
                break
        if iteration == max_iter:
            break
        alpha *= 2.0
        T, Q, G, T_inv, alpha = _line_search(A, crit, params, orthogonal, T, Q, Gp, frob2, alpha,
                                             FIRST_ROUND[orthogonal, stacked])  # fmt: skip
        if not orthogonal:  # starts whose factors collapse onto each other diverge: drop them
            alive = _well_conditioned(T, T_inv)
            if not alive.all():
                iterations[index[~alive]] = iteration
                out_T[index[~alive]], out_Q[index[~alive]] = T[~alive], np.inf
                index, T, Q, G, alpha = (x[alive] for x in (index, T, Q, G, alpha))
                A = A[alive] if stacked else A
                if index.size == 0:
                    break
    iterations[index] = iteration
    out_T[index], out_Q[index] = T, Q
    return out_T, out_Q, converged, iterations


def _well_conditioned(T, T_inv) -> np.ndarray:
    """cond₂(T) < COND_LIMIT for each T of the stack. ‖T‖_F‖T⁻¹‖_F bounds cond₂ from above and
    ‖T‖²_F = m (unit columns), so only the T whose ‖T⁻¹‖_F does not clear are decomposed."""
    m = T.shape[-1]
    alive = _add(T_inv * T_inv, axis=(-2, -1)) < 0.5 * COND_LIMIT**2 / m
    if not alive.all():
        unclear = ~alive
        alive[unclear] = np.linalg.cond(T[unclear]) < COND_LIMIT
    return alive


def _line_search(A, crit, params, orthogonal, T, Q, Gp, frob2, alpha, count):
    """One step of each start: T − (α/2^h)·Gp retracted for h = 0, 1, ... until Q falls by
    ½(α/2^h)‖Gp‖² (or the fall asked for is below Q's precision, or after 1000 halvings). The
    halvings h are tried a round of several at a time (``count`` in the first). Returns the new
    T, Q, gradient, T⁻¹ and α halved as often as lavaan's loop halves it."""
    floor = 1e-14 * np.maximum(1.0, np.abs(Q))
    chosen, found = _round(A, crit, params, orthogonal, T, Q, Gp, frob2, alpha, floor, count,
                           count == MAX_HALVINGS)  # fmt: skip
    new_T, new_Q, L, Gq, T_inv, halvings = chosen
    if found.all():
        return new_T, new_Q, gradient(A, L, Gq, orthogonal, T_inv), T_inv, alpha * HALVES[halvings]
    alpha = alpha * HALVES[np.where(found, halvings, count)]
    rows = np.flatnonzero(~found)  # the few starts that need more halvings, a round at a time
    start = count
    while rows.size:
        count = min(LATER_ROUNDS, MAX_HALVINGS - start)
        At = A[rows] if A.ndim == 3 else A
        chosen, found = _round(At, crit, params, orthogonal, T[rows], Q[rows], Gp[rows],
                               frob2[rows], alpha[rows], floor[rows], count,
                               start + count == MAX_HALVINGS)  # fmt: skip
        done = rows[found]
        for out, value in zip((new_T, new_Q, L, Gq, T_inv), chosen[:5], strict=True):
            if out is not None:
                out[done] = value[found]
        alpha[rows] = alpha[rows] * HALVES[np.where(found, chosen[5], count)]
        rows = rows[~found]
        start += count
    return new_T, new_Q, gradient(A, L, Gq, orthogonal, T_inv), T_inv, alpha


def _round(A, crit, params, orthogonal, T, Q, Gp, frob2, alpha, floor, count, last):
    """``count`` halvings of every start's step at once: the first candidate accepted per
    start (T, Q, loadings, dQ/dL, T⁻¹ and how many times α halves up to it) and whether one
    was."""
    step = alpha[:, None] * HALVES[:count]  # (starts, count): exact halvings
    Tt = _retract(T[:, None] - step[..., None, None] * Gp[:, None], orthogonal)
    L, Qt, Gq, T_inv = _evaluate(A[:, None] if A.ndim == 3 else A, Tt, crit, params, orthogonal)
    asked = 0.5 * frob2[:, None] * step
    decrease = Qt < Q[:, None] - asked
    accept = decrease | (asked <= floor[:, None])
    if last:  # as lavaan: after 1000 halvings the last candidate is taken
        accept[:, -1] = True
    first = np.argmax(accept, axis=1)
    at = (np.arange(first.size), first)
    # α halves at every candidate that did not decrease Q enough, the accepted one included
    halvings = first + ~decrease[at]
    chosen = (Tt[at], Qt[at], L[at], Gq[at], None if T_inv is None else T_inv[at], halvings)
    return chosen, accept[at]
