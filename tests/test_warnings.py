"""Problems of a fit are reported, never silent: non-convergence, negative variances (Heywood
cases), a latent covariance matrix that is not positive definite, a (near) singular information
matrix, and df < 0 (an error)."""

import warnings

import numpy as np
import pandas as pd
import pytest

import semlang
from semlang.errors import (
    ConvergenceWarning,
    HeywoodWarning,
    IdentificationError,
    IdentificationWarning,
    NotPositiveDefiniteWarning,
)

HS_MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""


def exact_sample(cov: np.ndarray, n: int, seed: int = 1) -> pd.DataFrame:
    """n rows whose sample covariance (divisor n) is exactly ``cov`` and whose means are 0."""
    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((n, cov.shape[0]))
    raw -= raw.mean(axis=0)
    whitened = raw @ np.linalg.inv(np.linalg.cholesky(raw.T @ raw / n)).T
    values = whitened @ np.linalg.cholesky(cov).T
    return pd.DataFrame(values, columns=[f"x{k + 1}" for k in range(cov.shape[0])])


def test_exact_sample_has_the_requested_covariance():
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    data = exact_sample(cov, 50)
    np.testing.assert_allclose(np.cov(data.to_numpy().T, ddof=0), cov, atol=1e-12)


def test_non_convergence_warns_and_is_reported():
    data = semlang.datasets.load("HolzingerSwineford1939")
    with pytest.warns(ConvergenceWarning, match="did not converge after 1 iteration"):
        fit = semlang.cfa(HS_MODEL, data, max_iterations=1)
    assert not fit.converged
    assert fit.iterations == 1
    assert "did NOT converge" in repr(fit)


def test_non_convergence_through_a_compiled_model():
    data = semlang.datasets.load("HolzingerSwineford1939")
    compiled = semlang.compile_model(HS_MODEL, "cfa")
    with pytest.warns(ConvergenceWarning):
        fit = semlang.fit(compiled, data, max_iterations=2)
    assert not fit.converged


def test_heywood_case_warns_with_the_variable():
    # one factor, three indicators: just identified, θ₁ = s₁₁ − s₁₂s₁₃/s₂₃ = 1 − 0.8·0.8/0.5 < 0
    cov = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    data = exact_sample(cov, 200)
    with pytest.warns(HeywoodWarning, match=r"x1~~x1"):
        fit = semlang.cfa("f =~ x1 + x2 + x3", data)
    assert fit.converged
    row = fit.estimates().query("lhs == 'x1' and op == '~~' and rhs == 'x1'").iloc[0]
    assert row.est == pytest.approx(1.0 - 0.8 * 0.8 / 0.5, abs=1e-6)


def test_latent_covariance_not_positive_definite_warns():
    # two factors, two indicators each; the cross-factor correlations (0.6) exceed the
    # within-factor ones (0.5): the factors correlate 0.6/0.5 = 1.2
    cov = np.full((4, 4), 0.6)
    cov[:2, :2] = cov[2:, 2:] = 0.5
    np.fill_diagonal(cov, 1.0)
    data = exact_sample(cov, 300)
    with pytest.warns(NotPositiveDefiniteWarning, match="latent variables is not positive"):
        fit = semlang.cfa("f1 =~ x1 + x2\nf2 =~ x3 + x4", data)
    est = fit.estimates().set_index(["lhs", "op", "rhs"])["est"]
    correlation = est["f1", "~~", "f2"] / np.sqrt(est["f1", "~~", "f1"] * est["f2", "~~", "f2"])
    assert correlation == pytest.approx(1.2, abs=1e-4)


def test_near_singular_information_warns_and_gives_no_standard_errors():
    # f2 has two indicators and no covariance with f1 in the data: λ5 and var(f2) are not
    # separately identified, the information matrix is singular
    cov = np.eye(5)
    cov[:3, :3] = [[1.0, 0.5, 0.4], [0.5, 1.0, 0.45], [0.4, 0.45, 1.0]]
    cov[3, 4] = cov[4, 3] = 0.5
    data = exact_sample(cov, 250)
    with pytest.warns(IdentificationWarning, match="information matrix is singular"):
        fit = semlang.cfa("f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5", data)
        frame = fit.estimates()  # (the warning comes with the fit or with the standard errors)
    assert fit.converged
    free = [row.free > 0 for row in fit.table.rows]
    assert frame.se[free].isna().all()  # as lavaan: no standard errors at all
    assert (frame.se[[not f for f in free]] == 0).all()


def test_negative_degrees_of_freedom_is_an_identification_error():
    data = semlang.datasets.load("HolzingerSwineford1939")
    with pytest.raises(IdentificationError, match=r"df = -1 < 0") as caught:
        semlang.cfa("f =~ x1 + x2", data)
    assert "not identified" in str(caught.value)
    assert "hint:" in str(caught.value)


def test_negative_degrees_of_freedom_when_compiling():
    with pytest.raises(IdentificationError, match="4 free parameters but the data give only 3"):
        semlang.compile_model("f =~ x1 + x2", "cfa")


def test_a_clean_fit_warns_nothing():
    data = semlang.datasets.load("HolzingerSwineford1939")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = semlang.cfa(HS_MODEL, data)
        fit.estimates()
        fit.fit_measures()
    assert fit.converged


@pytest.mark.parametrize("factor", [1e3, 1e6])
def test_a_variable_on_another_scale_is_neither_singular_nor_unidentified(factor):
    # x1 in thousandths (or millionths): its loading and standard error scale with it, z and
    # every other row stay; no false "singular" or "not identified" report (only lavaan's
    # warning that the variances differ by more than a factor 1000)
    data = semlang.datasets.load("HolzingerSwineford1939")
    plain = semlang.cfa(HS_MODEL, data).estimates()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "some observed variances", semlang.DataWarning)
        scaled = semlang.cfa(HS_MODEL, data.assign(x1=data.x1 * factor)).estimates()
    loading = (plain.lhs == "visual") & (plain.rhs == "x2")
    np.testing.assert_allclose(scaled.est[loading], plain.est[loading] / factor, rtol=1e-6)
    np.testing.assert_allclose(scaled.se[loading], plain.se[loading] / factor, rtol=1e-6)
    np.testing.assert_allclose(scaled.z, plain.z, rtol=1e-6)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "some observed variances", semlang.DataWarning)
        with pytest.raises(semlang.errors.DataError, match="x1, x2, x3 are linearly dependent"):
            semlang.cfa(HS_MODEL, data.assign(x3=(data.x1 + data.x2) * factor))


def test_a_model_impossible_at_its_starting_values_is_an_error():
    # a fixed negative variance: no step can make the implied covariance matrix positive definite
    data = semlang.datasets.load("HolzingerSwineford1939")
    with pytest.raises(semlang.errors.EstimationError, match="not positive definite at the start"):
        semlang.cfa("f =~ x1 + x2 + x3\nx1 ~~ -5*x1", data)


def test_standard_errors_where_the_implied_matrix_is_not_positive_definite_are_missing():
    # a fit whose estimates were moved to a non positive definite implied matrix reports that
    # instead of failing
    from dataclasses import replace

    from semlang.results.fit import Fit

    data = semlang.datasets.load("HolzingerSwineford1939")
    fit = semlang.cfa("f =~ x1 + x2 + x3", data)
    theta = fit.theta.copy()
    residual = next(r.free - 1 for r in fit.table.rows if r.op.value == "~~" and r.lhs == "x1")
    theta[residual] = -10.0
    estimation = replace(fit.estimation, theta=theta, phi=fit.model.space.phi_from_theta(theta))
    broken = Fit(fit.model, fit.sample, fit.options, estimation)
    with pytest.warns(NotPositiveDefiniteWarning, match="not positive definite at the estimates"):
        frame = broken.estimates()
    assert frame.se[[r.is_free for r in fit.table.rows]].isna().all()
