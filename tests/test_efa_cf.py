"""The Crawford-Ferguson rotation ("cf") as lavaan 0.6.14: its kappa is read from orthomax_gamma
(default 1) unless cf_gamma is given (tests/reference/efa/hs_cf.json, tools/efa_cf_reference.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import semlang
from tests.reference_cases import assert_matches

REFERENCE = json.loads((Path(__file__).parent / "reference" / "efa" / "hs_cf.json").read_text())
DATA = semlang.datasets.load("HolzingerSwineford1939")[REFERENCE["variables"]]
MODEL = "efa('b')*f1 + efa('b')*f2 + efa('b')*f3 =~ " + " + ".join(REFERENCE["variables"])


def efa_lambda(**rotation_args) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = semlang.efa(DATA, nfactors=3, rotation="cf", rotation_args=rotation_args)[3]
    rows = fit.estimates().query("op == '=~'")
    return rows.pivot(index="rhs", columns="lhs", values="est").loc[REFERENCE["variables"]].values


@pytest.mark.parametrize(("case", "args"), [("default", {}), ("orthomax_gamma_0.5",
                                             {"orthomax_gamma": 0.5})])  # fmt: skip
def test_cf_reads_orthomax_gamma_as_lavaan(case, args):
    expected = np.array(REFERENCE["cases"][case]["lambda"])
    ours = efa_lambda(**args)
    for (i, j), value in np.ndenumerate(expected):
        assert_matches("est", ours[i, j], value, f"{case} lambda[{i},{j}]")


def test_an_explicit_cf_gamma_is_the_kappa():
    # lavaan ignores cf.gamma for "cf" (its reference equals the default); semlang takes it
    lavaan_default = np.array(REFERENCE["cases"]["default"]["lambda"])
    lavaan_ignored = np.array(REFERENCE["cases"]["cf_gamma_0.5"]["lambda"])
    assert np.allclose(lavaan_default, lavaan_ignored, atol=1e-4)
    assert np.allclose(efa_lambda(cf_gamma=0.5), efa_lambda(orthomax_gamma=0.5), atol=1e-6)
    assert not np.allclose(efa_lambda(cf_gamma=0.5), lavaan_default, atol=1e-3)


def test_esem_cf_as_efa():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = semlang.cfa(MODEL, semlang.datasets.load("HolzingerSwineford1939"), rotation="cf")
    rows = fit.estimates().query("op == '=~'")
    ours = rows.pivot(index="rhs", columns="lhs", values="est").loc[REFERENCE["variables"]].values
    expected = np.array(REFERENCE["cases"]["default"]["lambda"])
    for (i, j), value in np.ndenumerate(expected):
        assert_matches("est", ours[i, j], value, f"esem lambda[{i},{j}]")
