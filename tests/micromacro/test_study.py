"""The micro-macro simulation study: bias in the published direction and size, reproducibility,
resuming, regenerated data sets, the summary's arithmetic and the command line."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from semlang.cli import main
from semlang.errors import OptionError
from semlang.micromacro.study import (
    PUBLISHED,
    STUDY_METHODS,
    MicroMacroTask,
    StudyDesign,
    plot_bias,
    run_study,
    summarize,
)
from semlang.runner import ReplicationResults

TERMS = ("Intercept", "Z", "X")


@pytest.fixture(scope="module")
def small_study():
    return run_study(StudyDesign(), reps=50, seed=20200831, executor="serial", progress=False)


def _near(summary, method: str, term: str, target: float, slack: float = 2.0) -> bool:
    """Within four Monte Carlo standard errors (plus ``slack`` percent) of ``target``."""
    bias = summary.percent_bias[method][term]
    return abs(bias - target) <= 4 * summary.mc_se[method][term] + slack


def test_small_study_has_the_published_direction_and_size(small_study) -> None:
    s = small_study
    assert s.replications == 50 and s.methods == tuple(m.value for m in STUDY_METHODS)
    # the group mean's effect is attenuated by its reliability w = .91 / (.91 + .9): -49.7 %
    assert _near(s, "Unadjusted", "X", 100 * (0.91 / 1.81 - 1))
    assert s.percent_bias["Unadjusted"]["X"] < -40
    # ... and Z picks up part of it: +15 % (published 14.5)
    for method in ("Unadjusted", "BLUP_mixed", "BLUP_mixed_hetvar"):
        assert s.percent_bias[method]["Z"] > 5 and _near(s, method, "Z", 14.9)
    # BLUPs remove the attenuation; CV and the SEM also the bias of Z; True is unbiased
    for method in ("BLUP_mixed", "BLUP_mixed_hetvar", "True"):
        assert _near(s, method, "X", 0.0)
    for method in ("CV Adj", "SEM", "True"):
        assert _near(s, method, "Z", 0.0)
    for method in s.methods:
        assert _near(s, method, "Intercept", 0.0)
        for term in TERMS:  # and every method agrees with the published study
            assert _near(s, method, term, PUBLISHED["percent_bias"][method][term], slack=3.0)


def test_small_study_scores_and_alpha(small_study) -> None:
    s = small_study
    assert list(s.scores) == ["True", "CV Adj", "CV Adj (published code)", "Unadjusted",
                              "BLUP_mixed", "BLUP_mixed_hetvar", "Factor Score"]  # fmt: skip
    assert all(stats["n"] == 5000 for stats in s.scores.values())
    # population SDs: xi 1; mean sqrt(1 + .9) = 1.38; BLUP sqrt(1 - .9 / 1.9) = .73
    assert s.scores["True"]["sd"] == pytest.approx(1.0, abs=0.05)
    assert s.scores["Unadjusted"]["sd"] == pytest.approx(math.sqrt(1.9), abs=0.05)
    for method in ("BLUP_mixed", "BLUP_mixed_hetvar"):
        assert s.scores[method]["sd"] == pytest.approx(math.sqrt(1 - 0.9 / 1.9), abs=0.04)
    assert s.scores["Factor Score"]["sd"] == pytest.approx(
        PUBLISHED["scores"]["Factor Score"]["sd"], abs=0.15
    )
    # population alpha of 10 parallel measurements: 1 / (1 + 9 / 10) = .526; the sample alpha of
    # 100 groups has mean about .517 and SD .07, so the mean of 50 has an SE of .01
    assert s.alpha_mean == pytest.approx(1 / 1.9, abs=0.03)
    assert s.alpha_mean < s.alpha_max < 0.8


def test_reliable_measure_leaves_little_bias() -> None:
    design = StudyDesign(sigma2_nu=1.0)
    s = run_study(design, reps=30, seed=7, methods=["Unadjusted", "True"], executor="serial")
    assert _near(s, "Unadjusted", "X", 100 * (0.91 / 1.01 - 1))  # -9.9 %; published -9.651
    assert _near(s, "Unadjusted", "X", PUBLISHED["percent_bias_sigma_nu2_1"]["Unadjusted"]["X"])
    assert s.alpha_mean == pytest.approx(1 / 1.1, abs=0.02)


def test_results_do_not_depend_on_the_executor_and_a_study_resumes(tmp_path) -> None:
    methods = ["Unadjusted", "BLUP_mixed", "Factor Score", "SEM"]
    serial = run_study(reps=6, seed=3, methods=methods, executor="serial")
    pooled = run_study(reps=6, seed=3, methods=methods, n_jobs=2, progress=False)
    for method in serial.methods:
        for term in TERMS:
            assert pooled.percent_bias[method][term] == pytest.approx(
                serial.percent_bias[method][term], rel=1e-12, abs=1e-12
            )
    path = tmp_path / "study.jsonl"
    first = run_study(reps=6, seed=3, methods=methods, executor="serial", results_path=path)
    assert first.percent_bias == serial.percent_bias
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-2]) + lines[-2][:10])  # interrupted mid-line
    again = run_study(reps=6, seed=3, methods=methods, executor="serial", results_path=path)
    assert again.resumed >= 4 and again.percent_bias == serial.percent_bias
    done = run_study(reps=6, seed=3, methods=methods, executor="serial", results_path=path)
    assert done.resumed == 6 and done.percent_bias == serial.percent_bias
    with pytest.raises(OptionError, match="another run"):
        run_study(reps=6, seed=4, methods=methods, executor="serial", results_path=path)


def test_inadmissible_data_sets_are_drawn_again_and_counted() -> None:
    s = run_study(reps=2, seed=1, methods=["Factor Score"], executor="serial", max_iterations=1)
    assert s.replications == 0 and s.failed == 2 and s.regenerated == 38  # 20 attempts each
    assert s.failure_reasons == {"Factor Score: the optimizer did not converge": 40}
    task = MicroMacroTask(StudyDesign(), max_iterations=100).prepare()
    assert list(task.models) == [10]  # compiled once, before the task goes to the workers


def _records(estimates: np.ndarray) -> list[dict]:
    out = []
    for k, row in enumerate(estimates):
        result = {"coef": {"SEM": list(row)}, "scores": {"True": [k, -k]}, "alpha": 0.5 + k / 10}
        out.append({"index": k, "attempt": 1, "status": "ok", "result": result, "final": True})
    return out


def test_summary_arithmetic() -> None:
    estimates = np.array([[0.3, 0.33, 0.27], [0.33, 0.36, 0.3], [0.27, 0.3, 0.36]])
    failed = {"index": 0, "attempt": 0, "status": "inadmissible", "error": "Inadmissible",
              "message": "SEM: negative variance x3~~x3"}  # fmt: skip
    results = ReplicationResults.from_records([*_records(estimates), failed], 3, 2.0, 0, "t")
    s = summarize(results, StudyDesign(), [m for m in STUDY_METHODS if m.value == "SEM"])
    mean = estimates.mean(axis=0)
    assert s.percent_bias["SEM"]["Z"] == pytest.approx(100 * (mean[1] - 0.3) / 0.3)
    assert s.mc_se["SEM"]["X"] == pytest.approx(100 * estimates[:, 2].std(ddof=1) / 0.3 / 3**0.5)
    assert s.mean_estimates["SEM"]["Intercept"] == pytest.approx(0.3)
    spread = np.std([0, 0, 1, -1, 2, -2], ddof=1)
    assert s.scores["True"] == {
        "n": 6, "mean": 0.0, "sd": pytest.approx(spread), "min": -2.0, "q1": -0.75,
        "median": 0.0, "q3": 0.75, "max": 2.0,
    }  # fmt: skip
    assert s.alpha_mean == pytest.approx(0.6) and s.alpha_max == pytest.approx(0.7)
    assert s.failure_reasons == {"SEM: negative variance": 1} and s.regenerated == 1
    out = s.to_dict()
    for key in ("percent_bias", "mc_se", "scores", "alpha_mean", "replications", "regenerated"):
        assert key in out
    assert out["seconds_per_replication"] == pytest.approx(2.0 / 3)
    json.dumps(out)


def test_design_checks() -> None:
    assert StudyDesign().truth == {"Intercept": 0.3, "Z": 0.3, "X": 0.3}
    sample = StudyDesign(group_size=(5, 15)).generate(np.random.default_rng(1))
    assert sample.sizes.min() >= 5 and sample.sizes.max() <= 15 and len(set(sample.sizes)) > 3
    for bad in ({"group_size": 1}, {"group_size": (9, 4)}, {"n_groups": 3}, {"sigma2_nu": -1.0},
                {"coefficients": (0.3, 0.0, 0.3)}):  # fmt: skip
        with pytest.raises(OptionError):
            StudyDesign(**bad)
    with pytest.raises(OptionError, match="at least 2"):
        run_study(reps=1)


def test_unbalanced_groups_are_fit_by_fiml() -> None:
    design = StudyDesign(n_groups=60, group_size=(4, 7), sigma2_nu=4.0)
    s = run_study(design, reps=3, seed=2, methods=["BLUP_mixed", "SEM"], executor="serial")
    assert s.replications == 3 and s.alpha_mean is None
    assert all(math.isfinite(v) for v in s.percent_bias["SEM"].values())


def test_plot(tmp_path, small_study, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "bias.png"
    plot_bias(small_study, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(OptionError, match=r"semlang\[plot\]"):
        plot_bias(small_study, path)


def test_command_line(capsys, tmp_path, monkeypatch) -> None:
    args = ["study", "micro-macro", "--reps", "3", "--seed", "5", "--no-progress", "--jobs", "1"]
    assert main([*args, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["replications"] == 3 and set(out["percent_bias"]) == {m.value for m in STUDY_METHODS}
    assert set(out["percent_bias"]["SEM"]) == set(TERMS) and set(out["mc_se"]["SEM"]) == set(TERMS)
    assert main([*args, "--methods", "Unadjusted,True", "--sigma-nu2", "1"]) == 0
    text = capsys.readouterr().out
    assert "sigma2_nu = 1 (ICC 0.500)" in text
    row = next(line for line in text.splitlines() if line.startswith("Unadjusted"))
    assert row.split()[-3:] == ["-0.011", "2.698", "-9.651"]  # the published values beside ours
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main([*args, "--plot", str(tmp_path / "b.png")]) == 2
    assert "semlang[plot]" in capsys.readouterr().err


@pytest.mark.slow
def test_the_published_study() -> None:
    """The full study: 1000 data sets; every published percent bias within Monte Carlo error.

    The published-code adjusted means have coefficients without a finite expectation (their
    Monte Carlo standard error is nominal), so they are held to the published score quartiles;
    Croon & van Veldhoven's adjusted means also to the bias in their own article."""
    s = run_study(reps=1000, seed=1)
    for method in s.methods:
        for term in TERMS:
            published = PUBLISHED["percent_bias"][method][term]
            assert _near(s, method, term, published, slack=1.0), (method, term)
    original = PUBLISHED["percent_bias_croon_van_veldhoven"]["CV Adj"]
    for term in TERMS:
        assert _near(s, "CV Adj", term, original[term], slack=1.0), term
    for method in ("True", "Unadjusted", "BLUP_mixed", "BLUP_mixed_hetvar", "Factor Score"):
        assert s.scores[method]["sd"] == pytest.approx(PUBLISHED["scores"][method]["sd"], abs=0.05)
    for method in ("True", "CV Adj (published code)", "BLUP_mixed", "Unadjusted"):
        for column in ("q1", "median", "q3"):
            published = PUBLISHED["scores"][method][column]
            assert s.scores[method][column] == pytest.approx(published, abs=0.02), method
    assert s.alpha_mean == pytest.approx(PUBLISHED["alpha_mean"], abs=0.01)


def _score_sds(text: str) -> dict[str, str]:
    """Method -> sd from semlang's table of group scores in the text output."""
    table = text.split("Group scores")[1].split("published (")[0].split("\n\n")[0]
    return {line[:25].strip(): line[25:].split()[2] for line in table.splitlines()[2:]}


def _bias_rows(text: str) -> dict[str, list[float]]:
    """Method -> [bias, se, bias, se, bias, se] from the percent-bias table of the text output."""
    rows = {}
    for line in text.split("Percent bias")[1].split("Group scores")[0].splitlines()[2:]:
        if line.strip() and not line.startswith("Croon"):
            name, numbers = line[:25].strip(), line[25:].replace("(", " ").replace(")", " ")
            rows[name] = [float(v) for v in numbers.split()[:6]]
    return rows


@pytest.mark.slow
def test_the_example_readme_shows_the_real_study_output(capsys, tmp_path) -> None:
    """The README's study runs (1000 data sets each) print what it shows: the same lines, the
    same percent bias within half a Monte Carlo standard error (a change of the optimizer may
    regenerate a different data set or two) and the same score SDs and alpha."""
    import re
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2] / "examples/micro_macro/README.md"
    pattern = r"```console\n\$ semlang (study .*?)\n```\n\n```text\n(.*?)```"
    runs = [(c.split(), out) for c, out in re.findall(pattern, readme.read_text(), re.S)]
    assert len(runs) == 2
    for args, shown in runs:
        args = [str(tmp_path / "bias.png") if a.endswith("bias.png") else a for a in args]
        assert main([*args, "--no-progress"]) == 0
        out = capsys.readouterr().out
        assert len(out.splitlines()) == len(shown.splitlines())
        assert out.splitlines()[:2] == shown.splitlines()[:2]
        ours, theirs = _bias_rows(out), _bias_rows(shown)
        assert list(ours) == list(theirs)
        for method, values in theirs.items():
            for k in (0, 2, 4):
                assert abs(ours[method][k] - values[k]) <= 0.5 * values[k + 1] + 0.01, method
        ours_sd, shown_sd = (_score_sds(t) for t in (out, shown))
        assert list(ours_sd) == list(shown_sd)
        assert all(abs(float(ours_sd[k]) - float(v)) <= 0.015 for k, v in shown_sd.items())
        alpha = re.compile(r"mean (0\.\d\d)")
        assert alpha.findall(out) == alpha.findall(shown)


@pytest.mark.slow
def test_the_readme_shows_the_published_cv_spread() -> None:
    """The README's ten-study table of the published-code adjusted means: its first two studies
    rerun to the same rows (2000 data sets)."""
    import importlib.util
    import re
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "examples/micro_macro"
    spec = importlib.util.spec_from_file_location("spread", folder / "published_cv_spread.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shown = re.search(r"published_cv_spread.py\n```\n\n```text\n(.*?)```",
                      (folder / "README.md").read_text(), re.S).group(1)  # fmt: skip
    rows = [line for line in shown.splitlines() if line.startswith("seed ")]
    assert len(rows) == 10
    out = module.main(studies=2)
    assert [line for line in out.splitlines() if line.startswith("seed ")] == rows[:2]
