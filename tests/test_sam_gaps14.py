"""sam() where lavaan 0.6.14 ignores what the model says across measurement blocks: a label
equating parameters of two blocks, an indicator of two blocks (each block fitted on its own)
— tests/reference/diagnostics/gaps14_sam.json."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import semlang
from semlang.errors import SemlangWarning
from tests.reference_cases import REFERENCE_DIR

REF = json.loads((REFERENCE_DIR / "diagnostics" / "gaps14_sam.json").read_text())
DATA = semlang.datasets.load("PoliticalDemocracy")
CASES = {case["name"]: case for case in REF["cases"]}
JOINED = ["ind60", ["dem60", "dem65"]]
WARNS = {  # what lavaan's result ignores, per case and blocks
    ("shared_label", None): ["label 'a'", "label 'b'"],
    ("shared_label", "joined"): [],
    ("shared_indicator", None): ["indicator 'x3'"],
    ("shared_indicator", "joined"): ["indicator 'x3'"],
    ("shared_label_in_block", None): [],
    ("shared_label_in_block", "joined"): [],
}


@pytest.mark.parametrize(("name", "blocks"), list(WARNS))
def test_sam_matches_lavaan(name, blocks):
    case = CASES[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = semlang.sam(case["model"], DATA, mm_list=JOINED if blocks else None)
    messages = [str(w.message) for w in caught if issubclass(w.category, SemlangWarning)]
    expected = WARNS[(name, blocks)]
    assert len(messages) == len(expected)
    for text, message in zip(expected, messages, strict=True):
        assert text in message and "as lavaan" in message
    theirs = pd.DataFrame(case["mm_joined" if blocks else "estimates"])
    both = theirs.merge(result.estimates(), on=["lhs", "op", "rhs"], suffixes=("_ref", ""))
    assert len(both) == len(theirs)
    assert np.allclose(both.est, both.est_ref, atol=1e-4, rtol=1e-4)
    assert np.allclose(both.se, both.se_ref, atol=1e-4, rtol=1e-3)
    assert (both.label.fillna("") == both.label_ref).all()
