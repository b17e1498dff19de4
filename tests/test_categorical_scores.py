"""Factor scores of categorical models against lavaan 0.6.14's lavPredict()
(tools/categorical_scores_reference.R, every fitted row): EBM and ML scores in the theta
parameterization, with free scale factors and latent means (groups), exogenous covariates,
correlated residuals and missing values (pairwise), and the refusal where lavaan gives none."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from categorical_cases import fit_case, load
from reference_cases import assert_matches

import semlang
from semlang.estimate import categorical_scores as cs

CASES = ["hs3_theta", "hs3_groups_thresholds", "hs3_groups_theta", "mixed_wlsmv",
         "hs3_covariate", "hs3_correlated", "hs3_correlated_theta", "hs3_pairwise"]  # fmt: skip
# where lavaan 0.6.14 takes the first group's loadings and scales for a later group's own
FIRST_GROUP = {"hs3_groups_thresholds", "hs3_groups_theta"}


@pytest.fixture(scope="module", params=CASES)
def case_fit(request):
    name = request.param
    return name, fit_case(f"scores_{name}", lavaan_statistics=False)


def _matrix(entry) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in entry["values"]],
                    dtype=float)  # fmt: skip


def _by_group(fit, scores, reference):
    """(label, my scores, lavaan's) per group."""
    if "values" in reference:
        yield "", scores.to_numpy(dtype=float), _matrix(reference)
        return
    column = fit.table.options.group
    for label in fit.table.group_labels:
        mine = scores[scores[column] == label].drop(columns=column)
        yield label, mine.to_numpy(dtype=float), _matrix(reference[label])


def _predict(name, fit, method):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", semlang.SemlangWarning)
        scores = fit.predict(method=method)
    said = [str(w.message) for w in caught if issubclass(w.category, semlang.SemlangWarning)]
    assert bool(said) == (name in FIRST_GROUP), said
    assert all("first group's loadings" in text for text in said)
    return scores


def test_ebm_scores(case_fit):
    name, fit = case_fit
    reference = load(f"scores_{name}")["scores_ebm"]
    scores = _predict(name, fit, "ebm")
    for label, mine, theirs in _by_group(fit, scores, reference):
        assert mine.shape == theirs.shape
        for (k, j), value in np.ndenumerate(theirs):
            assert_matches("score", mine[k, j], value, f"{name} {label} row {k} column {j}")


def test_ml_scores(case_fit):
    """Rows where every factor has a finite ML estimate. lavaan's BFGS stops where the gradient
    is still about 1e-3 (and in the covariate model wanders off on some rows to a point of far
    lower likelihood): each row either matches or lavaan's point has the lower likelihood."""
    name, fit = case_fit
    reference = load(f"scores_{name}")["scores_ml"]
    scores = _predict(name, fit, "ml")
    loglik = _loglik(fit) if name not in FIRST_GROUP else None
    compared = off = 0
    for label, mine, theirs in _by_group(fit, scores, reference):
        full = ~np.isnan(mine).any(axis=1) & ~np.isnan(theirs).any(axis=1)
        for k in np.flatnonzero(full):
            compared += 1
            if np.max(np.abs(mine[k] - theirs[k])) <= 2e-3:
                continue
            assert loglik is not None, f"{name} {label} row {k}"
            assert loglik(k, theirs[k]) < loglik(k, mine[k]) - 1e-3, f"{name} row {k}"
            off += 1
    assert compared >= 100 and off <= (14 if name == "hs3_covariate" else 0), (compared, off)


def _loglik(fit):
    """Σ_j log P(y_j | η) of row k at η (a single-group fit)."""
    layout, d = fit.model.layouts[0], fit.estimation.objective.discrepancies[0]
    group = fit.sample.groups[0]
    raw = np.asarray(group.raw, dtype=float)
    values = raw[:, [list(group.names).index(name) for name in layout.observed]]
    nu, lam, theta, cuts, mean, psi = cs._measurement(layout, d.cat, fit.implied[0], fit.theta,
                                                      values)  # fmt: skip
    y = values[:, d.cat.y]

    def value(k, eta):
        args = (y[k : k + 1], nu, lam, theta, cuts, mean[k : k + 1], np.zeros_like(psi))
        return float(cs._log_posterior(np.asarray(eta)[None], *args)[0][0])

    return value


def test_a_negative_residual_variance_gives_no_scores():
    """lavaan: NA scores with a warning ("at least one negative (residual) variance")."""
    reference = load("scores_hs3_heywood")
    assert all(v is None for row in reference["scores_ebm"]["values"] for v in row)
    fit = fit_case("scores_hs3_heywood", lavaan_statistics=False)
    for method in ("ebm", "ml"):
        with pytest.raises(semlang.NotSupportedError, match="zero or negative"):
            fit.predict(method=method)


def test_observed_regressions_are_refused():
    fit = fit_case("hs3_wlsmv", lavaan_statistics=False, model=load("hs3_wlsmv")["model_text"]
                   + "x1 ~ x4\n")  # fmt: skip
    with pytest.raises(semlang.NotSupportedError, match="observed variables regressed on"):
        fit.predict()
