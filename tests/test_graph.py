"""The path graph of a parameter table, its structural checks and its Graphviz diagram."""

from __future__ import annotations

import math
import shutil

import pytest
from reference_cases import load_case

from semlang import diagram, graph
from semlang.errors import ModelSpecificationError, OptionError, SemlangError
from semlang.options import make_options
from semlang.partable import build_partable
from semlang.syntax.parser import parse

POLDEM = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
"""


def table(model: str, kind: str = "sem", ngroups: int = 1, **options):
    return build_partable(parse(model, "model.sem"), make_options(kind, **options), ngroups)


# ---- the graph ---------------------------------------------------------------------------------


def test_nodes_are_variables_with_their_roles():
    g = graph.path_graph(table(POLDEM))
    assert g.number_of_nodes() == 14
    ind60, dem60, x1 = g.nodes["ind60", 1], g.nodes["dem60", 1], g.nodes["x1", 1]
    assert (ind60["kind"], ind60["exogenous"], ind60["indicator"]) == ("latent", True, False)
    assert (dem60["latent"], dem60["endogenous"], dem60["line"]) == (True, True, 3)
    assert (x1["observed"], x1["indicator"], x1["endogenous"], x1["fixed_x"]) == (
        True,
        True,
        True,
        False,
    )
    assert {n for n, d in g.nodes(data=True) if d["exogenous"]} == {("ind60", 1)}


def test_edges_are_loadings_and_regressions_with_their_parameters():
    t = table(POLDEM)
    g = graph.path_graph(t)
    assert g.number_of_edges() == 11 + 3
    first = g.edges[("ind60", 1), ("x1", 1)]
    assert (first["kind"], first["op"], first["fixed"], first["value"]) == (
        "loading",
        "=~",
        True,
        1,
    )
    labelled = g.edges[("dem65", 1), ("y6", 1)]
    assert (labelled["label"], labelled["fixed"]) == ("a", False)
    assert math.isnan(labelled["value"])
    assert labelled["free"] == g.edges[("dem60", 1), ("y2", 1)]["free"] > 0
    regression = g.edges[("dem60", 1), ("dem65", 1)]
    row = next(r for r in t.rows if r.id == regression["row"])
    assert (row.lhs, row.op.value, row.rhs) == ("dem65", "~", "dem60")
    assert regression["kind"] == "regression" and regression["line"] == 6
    assert not g.has_edge(("dem65", 1), ("dem60", 1))


def test_covariances_are_undirected_and_apart_from_the_paths():
    g = graph.path_graph(table(POLDEM))
    cov = graph.covariances(g)
    assert {frozenset((u[0], v[0])) for u, v in cov.edges} == {
        frozenset(p) for p in [("y1", "y5"), ("y2", "y4"), ("y2", "y6"), ("dem60", "ind60")]
    } - {frozenset(("dem60", "ind60"))}
    assert cov.edges[("y4", 1), ("y2", 1)]["kind"] == "covariance"
    assert not g.has_edge(("y1", 1), ("y5", 1))


def test_graph_without_covariances_has_the_same_nodes_and_paths():
    full = graph.path_graph(table(POLDEM))
    paths = graph.path_graph(table(POLDEM), with_covariances=False)
    assert dict(paths.nodes(data=True)) == dict(full.nodes(data=True))
    assert list(paths.edges(data=True)) == list(full.edges(data=True))
    assert graph.covariances(paths).number_of_edges() == 0
    assert graph.covariances(paths).number_of_nodes() == full.number_of_nodes()


def test_exogenous_covariates_and_their_fixed_covariances():
    g = graph.path_graph(table("f =~ x1 + x2 + x3\nf ~ z1 + z2"))
    assert g.nodes["z1", 1]["fixed_x"] and g.nodes["z1", 1]["exogenous"]
    assert not g.nodes["f", 1]["exogenous"]
    exo = graph.covariances(g).edges[("z1", 1), ("z2", 1)]
    assert exo["exo"] and not exo["fixed"]
    g = graph.path_graph(table("f =~ x1 + x2 + x3\nf ~ z1 + z2", fixed_x=False))
    assert not g.nodes["z1", 1]["fixed_x"]


def test_groups_and_levels_are_separate_nodes():
    g = graph.path_graph(table("f =~ x1 + c(a, b)*x2 + x3", "cfa", ngroups=2))
    assert g.number_of_nodes() == 8
    assert g.nodes["x2", 2]["group"] == 2
    assert g.edges[("f", 1), ("x2", 1)]["label"] == "a"
    assert g.edges[("f", 2), ("x2", 2)]["label"] == "b"
    model = load_case("twolevel_demo")["model"]
    g = graph.path_graph(table(model))
    assert g.nodes["y1", 1]["level"] == 1 and g.nodes["y1", 2]["level"] == 2
    assert g.has_edge(("fw", 1), ("y1", 1)) and g.has_edge(("fb", 2), ("y1", 2))
    assert ("fb", 1) not in g and g.nodes["w1", 2]["exogenous"]


# ---- checks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["hs_cfa", "poldem_sem", "poldem_mediation", "growth_linear", "micro_macro_sem",
     "twolevel_demo", "micro_macro_twolevel", "bigfive_agree_equal"],
)  # fmt: skip
def test_reference_models_pass_the_checks(name):
    case = load_case(name)
    t = table(case["model"], case["fun"] or "sem")
    assert graph.check(t) == []


def test_a_name_like_a_latent_variable_is_flagged():
    warnings = graph.check(table("Visual =~ x1 + x2 + x3\ny ~ visual"))
    assert warnings == [
        "model.sem:2:5: 'visual' has no indicators, so it is taken as an observed variable; "
        "did you mean the latent variable 'Visual'?"
    ]


def test_a_latent_variable_of_the_other_level_is_flagged():
    model = "level: 1\n  fw =~ y1 + y2 + y3\n  fb ~ x\nlevel: 2\n  fb =~ y1 + y2 + y3"
    (warning,) = graph.check(table(model))
    assert warning.startswith("model.sem:3:3: 'fb' is a latent variable at level 2")


def test_a_misspelt_latent_variable_is_flagged():
    (warning,) = graph.check(table("visual =~ x1 + x2 + x3\ny ~ visaul"))
    assert "'visaul' has no indicators" in warning and "'visual'" in warning


def test_ordinary_covariates_are_not_flagged():
    assert graph.check(table("visual =~ x1 + x2 + x3\nvisual ~ ageyr + grade")) == []
    assert graph.check(table("f1 =~ x1 + x2 + x3\nf1 ~ f10 + f2")) == []


def test_feedback_loops_are_flagged():
    (warning,) = graph.check(table("y1 ~ y2 + x1\ny2 ~ y3 + x2\ny3 ~ y1"))
    assert warning.startswith("model.sem:1:6: y1, y2, y3 form a feedback loop")


def test_several_feedback_loops_are_flagged_in_order():
    model = "y1 ~ y2\ny2 ~ y1 + x\nz1 ~ z2\nz2 ~ z3\nz3 ~ z1 + y1\nw ~ z1"
    warnings = graph.check(table(model))
    assert [w.split(": ")[1] for w in warnings] == [
        "z1, z2, z3 form a feedback loop (a non-recursive model); such models need enough "
        "instruments to be identified; check the directions of the '~' statements",
        "y1, y2 form a feedback loop (a non-recursive model); such models need enough "
        "instruments to be identified; check the directions of the '~' statements",
    ]  # (in the order in which the search completes the loops)
    assert [w.split(": ")[0] for w in warnings] == ["model.sem:3:6", "model.sem:1:6"]


@pytest.mark.parametrize("seed", range(20))
def test_the_checks_components_are_networkx_ones_in_its_order(seed):
    import random

    import networkx as nx

    rng = random.Random(seed)
    names = [f"v{i}" for i in range(12)]
    lines = [f"{a} ~ {b}" for a in names for b in names if a != b and rng.random() < 0.15] or [
        "v1 ~ v2"
    ]
    t = table("\n".join(lines))
    ours = graph._Paths(t).strongly_connected()
    theirs = nx.strongly_connected_components(graph.path_graph(t, with_covariances=False))
    assert [set(c) for c in ours] == list(theirs)


def test_a_single_indicator_with_a_free_residual_is_flagged():
    assert graph.check(table("f =~ x1 + x2 + x3\ng =~ q\ng ~ f")) == []
    (warning,) = graph.check(table("f =~ x1 + x2 + x3\ng =~ q\ng ~ f\nq ~~ q"))
    assert "'g' has a single indicator 'q'" in warning and "q ~~ 0*q" in warning


def test_columns_decide_what_is_observed():
    t = table("f =~ x1 + x2 + x3\ny ~ f + z")
    assert graph.check(t, columns=["x1", "x2", "x3", "y", "z", "extra"]) == []
    with pytest.raises(ModelSpecificationError, match="'f' has the name of a column"):
        graph.check(t, columns=["x1", "x2", "x3", "y", "z", "f"])


# ---- the diagram -------------------------------------------------------------------------------


def test_dot_shapes_labels_and_covariances():
    model = POLDEM + "ind60 ~~ 1*ind60\nx1 ~~ v*x1\n"
    lines = [line.strip() for line in graph.to_dot(table(model)).splitlines()]
    assert lines[0] == 'digraph "model.sem" {' and lines[-1] == "}"
    assert '"ind60" [shape=ellipse, label="ind60"];' in lines
    assert '"y3" [shape=box, label="y3"];' in lines
    # variances are loops (as semPaths draws them): a fixed one dashed, a labelled one labelled
    assert '"ind60" -> "ind60" [dir=both, style=dashed, label="1"];' in lines
    assert '"x1" -> "x1" [dir=both, label="v"];' in lines
    assert '"y3" -> "y3" [dir=both];' in lines
    assert '"dem60" -> "y1" [style=dashed, label="1"];' in lines
    assert '"dem60" -> "y2" [label="a"];' in lines
    assert '"ind60" -> "x2";' in lines
    assert '"dem60" -> "dem65";' in lines
    assert '"y1" -> "y5" [dir=both, constraint=false];' in lines
    assert sum("->" in line for line in lines) == 14 + 3 + 14  # paths, covariances, variances


def test_dot_variance_labelled_var_is_not_var_var():
    text = graph.to_dot(table("f =~ x1 + x2 + x3\nx1 ~~ var*x1"))
    assert '"x1" -> "x1" [dir=both, label="var"];' in text and "var var" not in text


def test_dot_fixed_and_labelled_values_and_exogenous_covariances():
    lines = graph.to_dot(table("y ~ b*x1 + 0.5*x2 + x3\nx1 ~~ x2")).splitlines()
    lines = [line.strip() for line in lines]
    assert '"x1" -> "y" [label="b"];' in lines
    assert '"x2" -> "y" [style=dashed, label="0.5"];' in lines
    assert '"x1" -> "x2" [dir=both, constraint=false];' in lines
    text = graph.to_dot(table("y ~ x1 + x2"))
    assert '"x1" -> "x2" [dir=both, constraint=false, color=grey50];' in text


def test_dot_clusters_for_groups_and_levels():
    text = graph.to_dot(table("f =~ x1 + c(a, b)*x2 + x3", "cfa", ngroups=2))
    assert "subgraph cluster_1 {" in text and "subgraph cluster_2 {" in text
    assert 'label="group 2";' in text
    assert '"f@2" -> "x2@2" [label="b"];' in text
    text = graph.to_dot(table(load_case("twolevel_demo")["model"]))
    assert 'label="level 2 (between)";' in text
    assert '"fb@2" -> "y1@2" [style=dashed, label="1"];' in text


def test_dot_quotes_names():
    text = graph.to_dot(table("f.1 =~ x.1 + label('a \"q\" \\\\')*x_2 + x3"))
    assert '"f.1" -> "x.1" [style=dashed, label="1"];' in text
    assert '"f.1" -> "x_2" [label="a \\"q\\" \\\\\\\\"];' in text


def test_render_without_graphviz_draws_svg_itself_and_writes_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setattr(diagram.shutil, "which", lambda name: None)
    (tmp_path / "model.dot").write_text("mine")
    written = graph.render_diagram(table(POLDEM), tmp_path / "model.svg")
    assert written == [tmp_path / "model.svg"]
    svg = (tmp_path / "model.svg").read_text()
    assert svg.startswith("<svg") and ">dem65</text>" in svg and "<ellipse" in svg
    assert (tmp_path / "model.dot").read_text() == "mine"  # the sibling .dot is left alone
    assert graph.render_diagram(table(POLDEM), tmp_path / "only.dot") == [tmp_path / "only.dot"]
    assert (tmp_path / "only.dot").read_text() == graph.to_dot(table(POLDEM))
    with pytest.raises(SemlangError, match="need Graphviz's 'dot' program"):
        graph.render_diagram(table(POLDEM), tmp_path / "model.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.dot", "model.svg", "only.dot"]


def test_render_rejects_unknown_formats(tmp_path):
    for name in ("model.txt", "model.jpg", "model"):
        with pytest.raises(OptionError, match=r"unknown diagram format|has no suffix"):
            graph.render_diagram(table(POLDEM), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_render_draws_svg_and_png_with_graphviz(tmp_path):
    written = graph.render_diagram(table(POLDEM), tmp_path / "model.svg")
    assert written == [tmp_path / "model.svg"]
    svg = (tmp_path / "model.svg").read_text()
    assert "<svg" in svg and ">dem65</text>" in svg
    written = graph.render_diagram(table(POLDEM), tmp_path / "picture.png")
    assert (tmp_path / "picture.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
