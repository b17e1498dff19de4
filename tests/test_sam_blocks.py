"""sam()'s measurement blocks against lavaan 0.6.14 (tests/reference/diagnostics/sam_blocks.json):
lavaan's default (one block per latent variable; residual covariances across blocks not
estimated) and mm.list joining dem60 and dem65."""

import json

import numpy as np
import pytest

import semlang
from semlang.errors import OptionError, SemlangWarning
from tests.reference_cases import REFERENCE_DIR

REF = json.loads((REFERENCE_DIR / "diagnostics" / "sam_blocks.json").read_text())
CASES = {c["name"]: c for c in REF["cases"]}
DATA = semlang.datasets.load("PoliticalDemocracy")


def _mm_list(case):
    return None if not case["mm_list"] else case["mm_list"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_sam_blocks_match_lavaan(name):
    case = CASES[name]
    result = semlang.sam(REF["model"], DATA, mm_list=_mm_list(case))
    table = result.estimates().set_index(["lhs", "op", "rhs"])
    for row in case["estimates"]:
        mine = table.loc[(row["lhs"], row["op"], row["rhs"])]
        what = f"{name} {row['lhs']} {row['op']} {row['rhs']}"
        if row["est"] is None:  # across blocks: lavaan leaves it unestimated
            assert np.isnan(mine.est), what
            continue
        assert abs(mine.est - row["est"]) <= 2e-4 + 1e-3 * abs(row["est"]), what
        assert abs(mine.se - row["se"]) <= 1e-4 + 5e-3 * abs(row["se"]), what


def test_default_blocks_differ_from_joined():
    default = semlang.sam(REF["model"], DATA).estimates().set_index(["lhs", "op", "rhs"])
    joined = semlang.sam(REF["model"], DATA, mm_list=["ind60", ["dem60", "dem65"]])
    joined = joined.estimates().set_index(["lhs", "op", "rhs"])
    assert default.loc[("dem60", "~~", "dem60")].est == pytest.approx(4.4072, abs=1e-3)
    assert joined.loc[("dem60", "~~", "dem60")].est == pytest.approx(3.9111, abs=1e-3)
    assert np.isfinite(joined.loc[("y1", "~~", "y5")].est)


@pytest.mark.parametrize(
    "mm_list, match",
    [
        (["ind60", "dem60"], "one block"),
        (["ind60", "dem60", "dem65", "dem60"], "several blocks"),
        (["ind60", ["dem60", "nope"]], "unknown"),
        ("ind60", "list of blocks"),
    ],
)
def test_bad_mm_list(mm_list, match):
    with pytest.raises(OptionError, match=match):
        semlang.sam(REF["model"], DATA, mm_list=mm_list)


def test_labels_across_blocks_are_ignored_with_a_warning():
    model = REF["model"].replace("y2 + y3", "a*y2 + y3").replace("y6 + y7", "a*y6 + y7")
    with pytest.warns(SemlangWarning, match="label 'a' .* the equality is ignored"):
        table = semlang.sam(model, DATA).estimates()
    loads = table[(table.op == "=~") & (table.label == "a")].est
    assert loads.nunique() == 2
    result = semlang.sam(model, DATA, mm_list=["ind60", ["dem60", "dem65"]])
    table = result.estimates()
    loads = table[(table.op == "=~") & (table.label == "a")].est
    assert loads.nunique() == 1
