"""Modification indices against lavaan 0.6.14's ``modindices()`` (tests/reference/diagnostics)."""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import semlang
from tests.reference_cases import assert_matches
from tests.test_groups import PREPS

DIAGNOSTICS = Path(__file__).resolve().parents[1] / "reference" / "diagnostics"
CASES = ["hs_cfa", "poldem_sem", "hs_groups_equal", "hs_fiml", "hs_fiml_mlr", "mimic"]
COLUMNS = {"epc": "epc", "sepc.lv": "sepc_lv", "sepc.all": "sepc_all", "sepc.nox": "sepc_nox"}


def load(name: str) -> dict:
    with open(DIAGNOSTICS / f"modindices_{name}.json") as handle:
        return json.load(handle)


@cache
def fitted(name: str):
    case = load(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    if case.get("prep"):
        data = PREPS[case["prep"]](data)
    options = {key.replace(".", "_"): value for key, value in case["options"].items()}
    fun = semlang.sem if case["fun"] == "sem" else semlang.cfa
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.DataWarning)  # lavaan drops the same row
        return fun(case["model"], data, **options)


def merged(reference: list[dict], table: pd.DataFrame) -> pd.DataFrame:
    ref = pd.DataFrame(reference)
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in ref else [])
    assert len(ref) == len(table)
    both = ref.merge(table, on=keys, suffixes=("_ref", ""), validate="one_to_one")
    assert len(both) == len(ref), "the candidates differ from lavaan's"
    return both


@pytest.mark.parametrize("name", CASES)
def test_modindices_match_lavaan(name):
    case = load(name)
    table = fitted(name).modindices()
    both = merged(case["modindices"], table)
    for _, row in both.iterrows():
        what = f"{name} {row.lhs}{row.op}{row.rhs}"
        assert_matches("chisq", row["mi"], row["mi_ref"], f"{what} mi")
        for ref_col, col in COLUMNS.items():
            ref_value = row[ref_col] if ref_col in row else row[f"{ref_col}_ref"]
            assert_matches("est", row[col], ref_value, f"{what} {col}")


def test_rows_in_lavaans_order():
    case = load("poldem_sem")
    table = fitted("poldem_sem").modindices()
    assert list(table.lhs + table.op + table.rhs) == [
        r["lhs"] + r["op"] + r["rhs"] for r in case["modindices"]
    ]


def test_power_columns():
    case = load("hs_cfa")
    table = fitted("hs_cfa").modindices(power=True)
    assert list(table.columns) == [
        "lhs", "op", "rhs", "mi", "epc", "sepc_all", "delta", "ncp", "power", "decision"
    ]  # fmt: skip
    ref = pd.DataFrame(case["power"])
    assert list(table.decision) == list(ref.decision)
    np.testing.assert_allclose(table["power"], ref["power"], atol=1e-4)
    np.testing.assert_allclose(table["ncp"], ref["ncp"], rtol=1e-3)


def test_sort_minimum_and_op():
    table = fitted("hs_cfa").modindices(sort=True, minimum_value=10, op="~~")
    assert list(table.op.unique()) == ["~~"]
    assert (table.mi > 10).all() and table.mi.is_monotonic_decreasing
    assert (table.lhs + table.rhs).iloc[0] == "x7x8"


def test_summary_appends_lavaans_block():
    text = fitted("hs_cfa").summary(modindices=True)
    tail = text.splitlines()[-57:]
    assert tail[:3] == [
        "Modification Indices:",
        "",
        "       lhs op rhs     mi    epc sepc.lv sepc.all sepc.nox",
    ]
    assert tail[3] == "1   visual =~  x4  1.211  0.077   0.069    0.059    0.059"
    assert tail[-1] == "54      x8 ~~  x9 14.946 -0.423  -0.423   -0.805   -0.805"


def test_cli_prints_the_indices_above_the_minimum(tmp_path, capsys):
    from semlang.cli import main

    path = tmp_path / "hs.sem"
    path.write_text(load("hs_cfa")["model"], encoding="utf-8")
    data = Path(semlang.__file__).parent / "datasets" / "HolzingerSwineford1939.csv"
    argv = ["fit", str(path), str(data), "--cfa", "--modindices", "--minimum-value", "10"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("Modification Indices:")
    rows = [line.split()[1:4] for line in lines[start + 3 :]]
    assert rows == [["visual", "=~", "x7"], ["visual", "=~", "x9"], ["x7", "~~", "x8"],
                    ["x8", "~~", "x9"]]  # fmt: skip
