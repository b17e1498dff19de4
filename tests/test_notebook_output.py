"""What notebooks and scripts see: the summary object (text, HTML, LaTeX), a fit's and a
parameter table's display, and the JSON document's report of the run."""

from __future__ import annotations

import json
import pickle
from html.parser import HTMLParser

import pytest
from reference_cases import assert_matches, load_case

import semlang
from semlang.results.export import to_json
from semlang.results.summary_object import Summary

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def fit():
    return semlang.cfa(HS_MODEL, semlang.datasets.load("HolzingerSwineford1939"))


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.tables = 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables += 1
        elif tag == "tr":
            self.rows.append([])

    def handle_data(self, data):
        if self.rows and self.lasttag in ("td", "th") and data.strip():
            self.rows[-1].append(data.strip())


def test_summary_is_the_text_and_a_str(fit):
    summary = fit.summary()
    from semlang.results.summary import summary_text

    assert isinstance(summary, str) and isinstance(summary, Summary)
    assert summary == str(summary) == summary_text(fit)
    assert repr(summary) == str(summary)  # a notebook or REPL shows the text, not '\n' escapes
    assert summary.startswith("semlang") and summary.endswith("\n")
    assert "Latent Variables:" in summary + ""
    assert pickle.loads(pickle.dumps(summary)) == summary


def test_summary_html_is_tables_with_lavaans_numbers(fit):
    parser = _Cells()
    parser.feed(fit.summary(standardized=True)._repr_html_())
    assert parser.tables >= 5  # header blocks, test, and one per parameter section
    reference = {(r["lhs"], r["rhs"]): r for r in load_case("hs_cfa")["estimates"]}
    header = next(row for row in parser.rows if "Estimate" in row)
    assert header == ["Estimate", "Std.Err", "z-value", "P(>|z|)", "Std.lv", "Std.all"]
    x2 = next(row for row in parser.rows if row and row[0] == "x2")
    assert_matches("est", float(x2[1]), reference["visual", "x2"]["est"], "x2 est")
    assert_matches("se", float(x2[2]), reference["visual", "x2"]["se"], "x2 se")
    assert fit._repr_html_() == fit.summary()._repr_html_()  # no warnings: no box


def test_summary_latex(fit):
    latex = fit.summary().to_latex()
    assert latex.count(r"\begin{tabular}") == latex.count(r"\end{tabular}") >= 5
    assert r"P(\textgreater{}\textbar{}z\textbar{})" in latex
    assert r"visual =\textasciitilde{}" in latex and r"\paragraph{Latent Variables}" in latex
    assert "x2 & 0.554 & 0.100 & 5.554 & 0.000" in latex.replace("  ", " ")


def test_parameter_table_repr_is_a_table():
    table = semlang.parameter_table("f =~ x1 + a*x2 + x3")
    lines = repr(table).splitlines()
    assert lines[0] == "ParameterTable of <model>: 7 rows, 6 free parameters, 1 block"
    assert lines[1].split() == [
        "id", "lhs", "op", "rhs", "user", "free", "value", "start", "label", "exo",
    ]  # fmt: skip
    assert lines[3].split()[:6] == ["2", "f", "=~", "x2", "1", "1"] and "a" in lines[3].split()
    assert "<table" in table._repr_html_()


def test_json_reports_the_run_groups_options_and_warnings():
    data = semlang.datasets.load("HolzingerSwineford1939")
    fit = semlang.cfa(HS_MODEL, data, group="school", group_equal=["loadings"])
    document = json.loads(to_json(fit))
    assert document["semlang_version"] == semlang.__version__
    assert document["converged"] is True and document["iterations"] == fit.iterations
    assert document["nobs"] == 301
    assert document["groups"] == [
        {"group": "Pasteur", "nobs": 156}, {"group": "Grant-White", "nobs": 145},
    ]  # fmt: skip
    assert document["options"]["model"]["group_equal"] == ["loadings"]
    assert document["options"]["model"]["meanstructure"] is True
    assert document["options"]["fit"]["se"] == "standard" and document["warnings"] == []


def test_json_carries_the_fits_warnings():
    data = semlang.datasets.load("HolzingerSwineford1939")
    with pytest.warns(semlang.ConvergenceWarning):
        fit = semlang.cfa(HS_MODEL, data, max_iterations=2)
    document = json.loads(to_json(fit))
    assert document["converged"] is False
    assert any("did not converge" in w for w in document["warnings"])
    assert fit.warnings == document["warnings"]
    shown = fit._repr_html_()
    assert shown.startswith('<div class="semlang-warnings"') and "did not converge" in shown
    assert "did NOT end normally" in shown
