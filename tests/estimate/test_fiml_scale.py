"""FIML at scale: patterns in bounded chunks, Σ_oo⁻¹ from the Schur complement, the entries'
information batched over patterns, the memory-need message; and complete data's moments in one
pass. Each fast path is checked against the direct or pattern-by-pattern computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import semlang
from semlang.errors import DataError, EstimationError
from semlang.estimate import fiml, missing_patterns
from semlang.estimate.data import column_moments, prepare
from semlang.estimate.fiml_hessian import saturated_derivatives
from semlang.estimate.fiml_schur import SchurBlock, lower_inverse
from semlang.estimate.missing import (
    MissingPatterns,
    casewise_loglik,
    casewise_scores,
    fiml_loglik,
    fiml_loglik_and_gradient,
    h1_information_firstorder,
    h1_information_observed,
    saturated_em,
)
from semlang.estimate.normal_entries import NormalPieces

ONE_FACTOR = "f =~ x1 + x2 + x3 + x4 + x5 + x6"


def incomplete(seed: int, n: int = 80, p: int = 6, rate: float = 0.25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(p, p))
    data = rng.multivariate_normal(rng.normal(size=p), a @ a.T / p + np.eye(p), size=n)
    data[rng.random(data.shape) < rate] = np.nan
    data[:5] = data[5]  # five equal rows: a pattern of several rows, with a covariance
    data[:5, 0] += np.arange(5)
    return data


def moments(seed: int, p: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(p, p))
    return a @ a.T / p + np.eye(p), rng.normal(size=p)


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Chunks of a few patterns, made afresh at each pass, and slices of a few rows."""
    monkeypatch.setattr(missing_patterns, "CHUNK_ELEMENTS", 40)
    monkeypatch.setattr(missing_patterns, "_KEPT_ELEMENTS", 0)
    monkeypatch.setattr(fiml, "_ROW_ELEMENTS", 50)


def test_schur_complement_inverses_equal_the_direct_ones():
    patterns = MissingPatterns.from_array(incomplete(1))
    sigma, _ = moments(2)
    full = fiml.full_inverse(sigma)
    for block in patterns.blocks:
        direct = fiml.block_inverse(block, sigma, None)
        schur = fiml.block_inverse(block, sigma, full)
        np.testing.assert_allclose(schur.inverse, direct.inverse, rtol=0, atol=1e-10)
        np.testing.assert_allclose(schur.logdet, direct.logdet, rtol=0, atol=1e-10)
        if block.k < patterns.n_vars and block.k >= patterns.n_vars - block.k:
            assert not np.shares_memory(schur.inverse, direct.inverse)


@pytest.mark.parametrize("chunks", [False, True])
def test_schur_blocks_give_the_pattern_by_pattern_likelihood_and_information(chunks, request):
    """The Schur blocks' products over whole blocks (single and multi-row patterns, the complete
    pattern) against each pattern's own inverse (no full precision: the direct path)."""
    if chunks:
        request.getfixturevalue("tiny_chunks")
    patterns = MissingPatterns.from_array(incomplete(9, n=120, rate=0.15))
    sigma, mu = moments(10)
    assert any(isinstance(inv, SchurBlock) for _, inv in fiml.inverted_blocks(patterns, sigma))
    schur = fiml_loglik_and_gradient(patterns, sigma, mu)
    derivatives = [saturated_derivatives(patterns, sigma, mu, kind) for kind in (False, True)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fiml, "full_inverse", lambda sigma: None)
        direct = fiml_loglik_and_gradient(patterns, sigma, mu)
        expected = [saturated_derivatives(patterns, sigma, mu, kind) for kind in (False, True)]
    assert schur[0] == pytest.approx(direct[0], rel=1e-13)
    for a, b in zip(schur[1:], direct[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-11)
    for a, b in zip(derivatives, expected, strict=True):
        assert a.loglik == pytest.approx(b.loglik, rel=1e-13)
        np.testing.assert_allclose(a.gradient, b.gradient, rtol=0, atol=1e-10)
        np.testing.assert_allclose(a.information, b.information, rtol=0, atol=1e-10)


def test_small_factors_inverted_by_substitution_equal_numpy():
    rng = np.random.default_rng(11)
    for r in (1, 3, 6):
        a = rng.normal(size=(2000, r, r))
        chol = np.linalg.cholesky(a @ np.swapaxes(a, 1, 2) + r * np.eye(r))
        diag = np.diagonal(chol, axis1=1, axis2=2)
        np.testing.assert_allclose(
            lower_inverse(chol, diag), np.linalg.inv(chol), rtol=0, atol=1e-13
        )


def test_not_positive_definite_sigma_gives_minus_infinity():
    patterns = MissingPatterns.from_array(incomplete(1))
    sigma, mu = moments(2)
    sigma[0, 1] = sigma[1, 0] = 10.0 * np.sqrt(sigma[0, 0] * sigma[1, 1])
    assert fiml_loglik(patterns, sigma, mu) == -np.inf
    assert fiml.full_inverse(sigma) is None


def test_chunked_patterns_give_the_same_likelihood_scores_and_information(tiny_chunks):
    data = incomplete(3)
    sigma, mu = moments(4)
    chunked = MissingPatterns.from_array(data)
    assert not isinstance(chunked.blocks, tuple)  # made afresh: an iterator
    assert all(len(block.n) * block.k**2 <= 40 or len(block.n) == 1 for block in chunked.blocks)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(missing_patterns, "CHUNK_ELEMENTS", 1 << 21)
        patch.setattr(missing_patterns, "_KEPT_ELEMENTS", 1 << 23)
        patch.setattr(fiml, "_ROW_ELEMENTS", 1 << 21)
        whole = MissingPatterns.from_array(data)
        expected = _everything(whole, sigma, mu)
    for got, want in zip(_everything(chunked, sigma, mu), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-10)


def _everything(patterns, sigma, mu):
    loglik, grad_sigma, grad_mu = fiml_loglik_and_gradient(patterns, sigma, mu)
    return (
        np.array([loglik, fiml_loglik(patterns, sigma, mu)]),
        grad_sigma,
        grad_mu,
        casewise_loglik(patterns, sigma, mu),
        casewise_scores(patterns, sigma, mu),
        h1_information_observed(patterns, sigma, mu),
        h1_information_firstorder(patterns, sigma, mu),
        np.concatenate([saturated_em(patterns).mean, saturated_em(patterns).cov.ravel()]),
    )


def test_patterns_keep_no_covariance_for_single_rows():
    patterns = MissingPatterns.from_array(incomplete(5))
    counts = patterns.counts
    stored = sum(len(c.multi) for c in patterns.classes)
    assert stored == int((counts > 1).sum()) >= 1
    for pattern in patterns.patterns:
        if pattern.n == 1:
            np.testing.assert_array_equal(pattern.cov, 0.0)


def test_gradient_of_chunked_likelihood_matches_finite_differences(tiny_chunks):
    patterns = MissingPatterns.from_array(incomplete(6))
    sigma, mu = moments(7)
    _, grad_sigma, grad_mu = fiml_loglik_and_gradient(patterns, sigma, mu)
    h = 1e-6
    for i, j in [(0, 0), (2, 1), (5, 3)]:
        step = np.zeros_like(sigma)
        step[i, j] = step[j, i] = h
        numeric = (fiml_loglik(patterns, sigma + step, mu)
                   - fiml_loglik(patterns, sigma - step, mu)) / (2 * h)  # fmt: skip
        analytic = grad_sigma[i, j] * (1 if i == j else 2)
        assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-6)
    for i in range(len(mu)):
        step = np.zeros_like(mu)
        step[i] = h
        numeric = (fiml_loglik(patterns, sigma, mu + step)
                   - fiml_loglik(patterns, sigma, mu - step)) / (2 * h)  # fmt: skip
        assert grad_mu[i] == pytest.approx(numeric, rel=1e-6, abs=1e-6)


@pytest.fixture(scope="module")
def fiml_fit():
    data = pd.DataFrame(incomplete(8, n=150), columns=[f"x{j}" for j in range(1, 7)])
    return semlang.cfa(ONE_FACTOR, data, missing="fiml")


def test_batched_entry_information_equals_the_pattern_by_pattern_sum(fiml_fit):
    objective = fiml_fit.estimation.objective
    discrepancy, moments_ = objective.discrepancies[0], fiml_fit.implied[0]
    Pa, Pb, Pc, _ = moments_.entry_vectors()
    batched = discrepancy.expected_entries(moments_, Pa, Pb, Pc, True)
    single = NormalPieces.expected_entries(discrepancy, moments_, Pa, Pb, Pc, True)
    np.testing.assert_allclose(batched, single, rtol=0, atol=1e-10)
    batched = discrepancy.first_order_hessian_entries(moments_, Pa, Pb, Pc, True)
    single = NormalPieces.first_order_hessian_entries(discrepancy, moments_, Pa, Pb, Pc, True)
    np.testing.assert_allclose(batched, single, rtol=0, atol=1e-10)


def test_analytic_hessian_matches_finite_differences_of_the_gradient(fiml_fit):
    objective = fiml_fit.estimation.objective
    phi = fiml_fit.estimation.optimization.phi
    analytic = 2.0 * objective.observed_information(phi)
    np.testing.assert_allclose(analytic, objective.hessian_numeric(phi), rtol=1e-5, atol=1e-7)


def test_memory_need_is_refused_with_the_estimate(monkeypatch):
    monkeypatch.setenv("SEMLANG_MEMORY_LIMIT", "1KB")
    data = pd.DataFrame(incomplete(9), columns=[f"x{j}" for j in range(1, 7)])
    with pytest.raises(
        EstimationError,
        match=r"needs about [0-9.]+ MB of memory \(80 rows of 6 "
        r"variables, \d+ missing-data patterns\), more than the 0.0 MB available",
    ):
        semlang.cfa(ONE_FACTOR, data, missing="fiml")


def test_an_allocation_failure_becomes_the_memory_message(monkeypatch):
    from semlang.estimate import fiml_objective

    def fail(*args, **kwargs):
        raise MemoryError("Unable to allocate 680 MiB")

    monkeypatch.setattr(fiml_objective, "saturated_em", fail)
    data = pd.DataFrame(incomplete(9), columns=[f"x{j}" for j in range(1, 7)])
    with pytest.raises(EstimationError, match=r"full-information ML on these data needs about "):
        semlang.cfa(ONE_FACTOR, data, missing="fiml")


def test_a_limit_that_is_not_a_size_is_refused(monkeypatch):
    monkeypatch.setenv("SEMLANG_MEMORY_LIMIT", "lots")
    with pytest.raises(EstimationError, match="SEMLANG_MEMORY_LIMIT='lots' is not a size"):
        MissingPatterns.from_array(incomplete(9))


# ---- complete data ---------------------------------------------------------------------------


@pytest.mark.parametrize("shift", [0.0, 1e7])
def test_moments_in_one_pass_equal_the_centred_ones(shift, monkeypatch):
    from semlang.estimate import data

    monkeypatch.setattr(data, "_LARGE", 0)  # (the path of large data)
    rng = np.random.default_rng(10)
    values = np.asfortranarray(rng.normal(size=(20_000, 4)) + shift)  # several chunks
    mean, cov = column_moments(values)
    centred = values - values.mean(axis=0)
    np.testing.assert_allclose(mean, values.mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(cov, centred.T @ centred / len(values), rtol=1e-10, atol=1e-12)


def test_complete_data_are_used_in_place_with_their_moments():
    hs = semlang.datasets.load("HolzingerSwineford1939")
    table = semlang.compile_model("f =~ x1 + x2 + x3 + x4", "cfa").table
    sample = prepare(hs, table, table.options)
    group = sample.groups[0]
    values = hs[["x1", "x2", "x3", "x4"]].to_numpy()
    np.testing.assert_array_equal(group.raw, values)
    np.testing.assert_array_equal(group.rows, np.arange(len(hs)))
    np.testing.assert_allclose(group.cov, np.cov(values.T, bias=True), rtol=1e-13)
    assert not group.has_missing


@pytest.mark.filterwarnings("ignore::semlang.DataWarning")  # (its rounding-level variance)
def test_a_constant_column_among_complete_rows_is_named():
    hs = semlang.datasets.load("HolzingerSwineford1939").assign(x3=1e8 / 3)
    table = semlang.compile_model("f =~ x1 + x2 + x3 + x4", "cfa").table
    with pytest.raises(DataError, match=r"variable 'x3' is constant \(every value is 3.33333e\+07"):
        prepare(hs, table, table.options)
