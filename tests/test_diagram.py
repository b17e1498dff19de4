"""Path diagrams of fits: estimates on the arrows, semPaths' conventions, SVG without Graphviz,
and the ``semlang diagram --data`` command."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from reference_cases import assert_matches, load_case

import semlang
from semlang import diagram
from semlang.cli import main
from semlang.errors import OptionError

DATA = Path(__file__).resolve().parents[1] / "semlang" / "datasets"
POLDEM = DATA / "PoliticalDemocracy.csv"
MODEL = "ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem60 ~ ind60\nx1 ~~ var*x1\n"


@pytest.fixture(scope="module")
def fit():
    return semlang.sem(MODEL, semlang.datasets.load("PoliticalDemocracy"))


def _labels(dot: str) -> dict[str, str]:
    """'a -> b' -> its label, from DOT text."""
    out = {}
    for match in re.finditer(r'"([^"]+)" -> "([^"]+)" \[([^\]]*)\]', dot):
        label = re.search(r'label="([^"]*)"', match.group(3))
        out[f"{match.group(1)} -> {match.group(2)}"] = label.group(1) if label else ""
    return out


def test_estimates_and_standardized_estimates_on_the_arrows(fit):
    frame = fit.estimates()
    for what, column in (("est", "est"), ("std", "std_all")):
        labels = _labels(fit.diagram(what).to_dot())
        for row in frame.itertuples():
            if row.op == "=~":
                key = f"{row.lhs} -> {row.rhs}"
            elif row.op == "~":
                key = f"{row.rhs} -> {row.lhs}"
            elif row.op == "~~":
                key = f"{row.lhs} -> {row.rhs}"
            else:
                continue
            assert labels[key] == f"{getattr(row, column):.2f}", (what, key)
    labels = _labels(fit.diagram("std").to_dot())
    # lavaan's standardizedSolution of this model: ind60 =~ x1 0.920, dem60 ~ ind60 0.460
    assert labels["ind60 -> x1"] == "0.92" and labels["ind60 -> dem60"] == "0.46"
    assert _labels(fit.diagram("none").to_dot())["x1 -> x1"] == "var"


def test_hs_estimates_match_lavaan_on_the_arrows():
    reference = load_case("hs_cfa")
    fit = semlang.cfa(reference["model"], semlang.datasets.load("HolzingerSwineford1939"))
    labels = _labels(fit.diagram().to_dot())
    for ref in reference["estimates"]:
        if ref["op"] == "=~":
            shown = float(labels[f"{ref['lhs']} -> {ref['rhs']}"])
            assert_matches("est", shown, round(ref["est"], 2), f"{ref['lhs']}=~{ref['rhs']}")


def test_what_is_checked(fit):
    with pytest.raises(OptionError, match="unknown what='raw'"):
        fit.diagram("raw")


def test_own_svg_has_ellipses_boxes_loops_and_numbers(fit):
    svg = fit.diagram("std").to_svg(engine="semlang")
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}ellipse")) == 2  # ind60, dem60
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert {"ind60", "dem60", "x1", "y4"} <= set(texts)
    assert "0.92" in texts and "0.46" in texts
    loops = [p for p in root.iter(f"{ns}path") if " C" in p.get("d", "")]
    assert len(loops) == 9  # one variance loop per variable
    assert len([e for e in root.iter(f"{ns}line")]) == 8  # 7 loadings and 1 regression
    assert "<svg" in diagram.from_fit(fit)._repr_svg_()  # by Graphviz when installed


def test_own_svg_of_groups_and_levels_has_a_title_per_block():
    table = semlang.parameter_table(load_case("twolevel_demo")["model"])
    svg = diagram.from_table(table).to_svg(engine="semlang")
    assert "level 1 (within)" in svg and "level 2 (between)" in svg
    ElementTree.fromstring(svg)  # well-formed


def test_cli_diagram_with_data_draws_the_estimates(tmp_path, capsys):
    model = tmp_path / "pd.sem"
    model.write_text(MODEL)
    target = tmp_path / "pd.dot"
    argv = ["diagram", str(model), "--data", str(POLDEM), "--what", "std", "-o", str(target)]
    assert main(argv) == 0
    assert capsys.readouterr().out == f"{target}\n"
    labels = _labels(target.read_text())
    assert labels["ind60 -> x1"] == "0.92" and labels["x1 -> x1"] == "0.15"
    assert main(["diagram", str(model), "--what", "std", "-o", str(target)]) == 2
    assert "--what std needs the estimates" in capsys.readouterr().err


def test_cli_diagram_refuses_other_formats(tmp_path, capsys):
    model = tmp_path / "pd.sem"
    model.write_text(MODEL)
    assert main(["diagram", str(model), "-o", str(tmp_path / "pd.jpg")]) == 2
    assert "unknown diagram format '.jpg'" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pd.sem"]
