"""The simulation study of the micro-macro methods (Croon & van Veldhoven's design, M. Clark 2020).

Input: a :class:`StudyDesign` (by default 100 groups of 10, sigma2_nu = 9, i.e. an intraclass
correlation of .1, cor(Z, xi) = .3, y = .3 + .3 Z + .3 xi + e with sigma2_e = .35), the number of
replications and a seed. Output: a :class:`StudySummary` — per method the percent bias of the
Intercept, Z and X coefficients with its Monte Carlo standard error, summaries of the group
scores over all replications, the mean coefficient alpha of the members' measurements, and how
many data sets were drawn again.

Each replication draws a data set, fits the four factor models (one compiled model each, compiled
once and reused; estimates only, no standard errors) and regresses y on each method's scores. As
in the published study, a data set is drawn again when a fitted model does not converge or has a
negative variance estimate (the one-factor model with free loadings is the usual culprit); the
count is reported. Replications run through :func:`semlang.runner.run_replications`: independent
reproducible seeds, local processes by default or a dask cluster, a resumable results file.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from semlang.errors import OptionError
from semlang.micromacro.generate import MicroMacroSample, generate_micro_macro
from semlang.micromacro.methods import (
    InadmissibleFit,
    Method,
    MethodModels,
    parse_methods,
    run_methods,
)
from semlang.micromacro.model import MicroMacroData
from semlang.runner import Inadmissible, run_replications

__all__ = [
    "PUBLISHED",
    "STUDY_METHODS",
    "MicroMacroTask",
    "StudyDesign",
    "StudySummary",
    "plot_bias",
    "require_matplotlib",
    "run_study",
    "summarize",
]

STUDY_METHODS = (
    Method.UNADJUSTED,
    Method.BLUP_MIXED,
    Method.BLUP_MIXED_HETVAR,
    Method.FACTOR_SCORE,
    Method.CV_ADJ,
    Method.CV_ADJ_PUBLISHED,
    Method.SEM,
    Method.TRUE,
)
TERMS = ("Intercept", "Z", "X")
# the order of the published table of scores
SCORE_METHODS = (
    Method.TRUE,
    Method.CV_ADJ,
    Method.CV_ADJ_PUBLISHED,
    Method.UNADJUSTED,
    Method.BLUP_MIXED,
    Method.BLUP_MIXED_HETVAR,
    Method.FACTOR_SCORE,
)

# M. Clark (2020), "Micro-macro models", tables 1-3: 1000 data sets of the default design. Its
# "CV Adj" column was computed by the code published with it, which ``CV Adj (published code)``
# follows (see semlang.micromacro.article_cv); the values are listed under both names.
_ARTICLE_CV = {"Intercept": -0.663, "Z": -2.368, "X": 7.992}
SCORE_STATISTICS = ("mean", "sd", "min", "q1", "median", "q3", "max")  # besides the count n


def _scores(*values: float) -> dict[str, float]:
    return dict(zip(SCORE_STATISTICS, values, strict=True))


_ARTICLE_CV_SCORES = _scores(0.01, 1.07, -22.97, -0.65, 0.0, 0.66, 25.64)
PUBLISHED: dict[str, Any] = {
    "percent_bias": {
        "Unadjusted": {"Intercept": 0.149, "Z": 14.494, "X": -49.877},
        "BLUP_mixed": {"Intercept": 0.051, "Z": 14.494, "X": -1.828},
        "BLUP_mixed_hetvar": {"Intercept": 0.053, "Z": 14.647, "X": -1.673},
        "Factor Score": {"Intercept": 0.063, "Z": 16.502, "X": 11.968},
        "CV Adj": _ARTICLE_CV,
        "CV Adj (published code)": _ARTICLE_CV,
        "SEM": {"Intercept": -0.017, "Z": -1.777, "X": 4.744},
        "True": {"Intercept": -0.567, "Z": -0.380, "X": 0.513},
    },
    # mean, sd, min, q1, median, q3, max of the 100,000 group scores
    "scores": {
        "True": _scores(0.01, 1.00, -4.31, -0.67, 0.0, 0.68, 4.44),
        "CV Adj": _ARTICLE_CV_SCORES,
        "CV Adj (published code)": _ARTICLE_CV_SCORES,
        "Unadjusted": _scores(0.00, 1.39, -6.32, -0.93, 0.0, 0.94, 6.96),
        "BLUP_mixed": _scores(0.00, 0.74, -4.20, -0.48, 0.0, 0.48, 3.98),
        "BLUP_mixed_hetvar": _scores(0.00, 0.74, -4.18, -0.48, 0.0, 0.47, 3.97),
        "Factor Score": _scores(0.00, 0.87, -7.29, -0.47, 0.0, 0.46, 6.54),
    },
    "alpha_mean": 0.52,
    "alpha_max": 0.74,
    # the same design with sigma2_nu = 1 (a reliable measure)
    "percent_bias_sigma_nu2_1": {"Unadjusted": {"Intercept": -0.011, "Z": 2.698, "X": -9.651}},
    # Croon & van Veldhoven (2007), table 1, the same design (as quoted in the article)
    "percent_bias_croon_van_veldhoven": {
        "Unadjusted": {"Intercept": 0.6, "Z": 15.3, "X": -50.4},
        "CV Adj": {"Intercept": -1.1, "Z": -1.3, "X": 5.0},
    },
}


@dataclass(frozen=True)
class StudyDesign:
    """The data-generating design (see :func:`~semlang.micromacro.generate_micro_macro`).

    ``group_size``: members per group, or ``(smallest, largest)`` for sizes drawn uniformly per
    group (unbalanced groups: the factor models are then fit by FIML). ``coefficients``: the
    intercept, the effect of xi and the effect of Z.
    """

    n_groups: int = 100
    group_size: int | tuple[int, int] = 10
    sigma2_nu: float = 9.0
    sigma2_xi: float = 1.0
    cor_z_xi: float = 0.3
    coefficients: tuple[float, float, float] = (0.3, 0.3, 0.3)
    sigma2_e: float = 0.35

    def __post_init__(self) -> None:
        size = self.group_size
        sizes = (size,) if isinstance(size, int) else tuple(size)
        if len(sizes) not in (1, 2) or any(not isinstance(s, int) or s < 2 for s in sizes):
            raise OptionError("group_size must be an integer of at least 2, or (smallest, largest)")
        if len(sizes) == 2 and sizes[0] > sizes[1]:
            raise OptionError(f"group_size range {sizes} is empty: give (smallest, largest)")
        if self.n_groups < 10:
            raise OptionError(f"a study needs at least 10 groups, got {self.n_groups}")
        if any(c == 0 for c in self.coefficients):
            raise OptionError("percent bias needs non-zero coefficients")
        generate_micro_macro(  # validates the remaining values
            10, 2, self.sigma2_nu, self.sigma2_xi, self.cor_z_xi, self.coefficients,
            self.sigma2_e, seed=0,
        )  # fmt: skip

    @property
    def is_published(self) -> bool:
        """The design of the published study (its tables apply)."""
        return self == StudyDesign()

    @property
    def largest_group(self) -> int:
        size = self.group_size
        return size if isinstance(size, int) else int(size[1])

    @property
    def truth(self) -> dict[str, float]:
        """The population coefficients by term."""
        b0, b_xi, b_z = self.coefficients
        return {"Intercept": float(b0), "Z": float(b_z), "X": float(b_xi)}

    def generate(self, rng: np.random.Generator) -> MicroMacroSample:
        size = self.group_size
        sizes: Any = size
        if not isinstance(size, int):
            low, high = size
            sizes = lambda gen: gen.integers(low, high + 1, size=self.n_groups)  # noqa: E731
        return generate_micro_macro(
            self.n_groups, sizes, self.sigma2_nu, self.sigma2_xi, self.cor_z_xi,
            self.coefficients, self.sigma2_e, rng=rng,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["coefficients"] = list(self.coefficients)
        if not isinstance(self.group_size, int):
            out["group_size"] = list(self.group_size)
        return out


def _alpha(items: np.ndarray) -> float | None:
    """Coefficient alpha of the members' measurements (balanced groups only)."""
    if not np.isfinite(items).all():
        return None
    k = items.shape[1]
    total = items.sum(axis=1).var(ddof=1)
    return float(k / (k - 1) * (1.0 - items.var(axis=0, ddof=1).sum() / total))


@dataclass(frozen=True, eq=False)
class MicroMacroTask:
    """One replication: draw, fit every method, return coefficients, scores and alpha.

    Picklable (sent once to every worker); the compiled models of each group-size layout are
    built once per process and reused for every replication.
    """

    design: StudyDesign
    methods: tuple[Method, ...] = STUDY_METHODS
    max_iterations: int = 100
    models: dict[int, MethodModels] = field(default_factory=dict, repr=False)

    def models_for(self, data: MicroMacroData) -> MethodModels:
        key = int(data.sizes.max())
        if key not in self.models:
            self.models[key] = MethodModels.build(data, self.methods, self.max_iterations)
        return self.models[key]

    def prepare(self) -> MicroMacroTask:
        """Compile the models of the largest layout before the task is sent to the workers."""
        sample = self.design.generate(np.random.default_rng(0))
        sizes = np.full(self.design.n_groups, self.design.largest_group)
        data = MicroMacroData.from_arrays(sizes, np.zeros(int(sizes.sum())), sample.z, sample.y)
        self.models_for(data)
        return self

    def __call__(self, index: int, rng: np.random.Generator) -> dict[str, Any]:
        sample = self.design.generate(rng)
        data = sample.data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out = run_methods(
                    data, self.models_for(data), self.methods,
                    true_xi=sample.xi, inference=False, strict=True,
                )  # fmt: skip
            except InadmissibleFit as exc:
                raise Inadmissible(str(exc)) from None
        coef = {}
        for method, result in out.items():
            values = result.coef()
            coef[method.value] = [values["Intercept"], values["Z"], values["x"]]
        scores = {}
        for method in SCORE_METHODS:
            found = out[method].scores if method in out else None
            if found is not None:
                scores[method.value] = np.round(found[:, 0], 5).tolist()
        return {"coef": coef, "scores": scores, "alpha": _alpha(data.items)}


def _score_summary(values: np.ndarray) -> dict[str, float]:
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    stats = (values.mean(), values.std(ddof=1), values.min(), q1, median, q3, values.max())
    return {"n": int(values.size)} | _scores(*map(float, stats))


@dataclass(frozen=True)
class StudySummary:
    """The study's results (``to_dict()`` is the JSON output of ``semlang study micro-macro``)."""

    design: StudyDesign
    methods: tuple[str, ...]
    replications: int
    regenerated: int
    failed: int
    failure_reasons: dict[str, int]
    percent_bias: dict[str, dict[str, float]]
    mc_se: dict[str, dict[str, float]]
    mean_estimates: dict[str, dict[str, float]]
    scores: dict[str, dict[str, float]]
    alpha_mean: float | None
    alpha_max: float | None
    elapsed: float
    resumed: int = 0

    @property
    def seconds_per_replication(self) -> float:
        ran = self.replications - self.resumed
        return self.elapsed / ran if ran > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "percent_bias": self.percent_bias,
            "mc_se": self.mc_se,
            "mean_estimates": self.mean_estimates,
            "scores": self.scores,
            "alpha_mean": self.alpha_mean,
            "alpha_max": self.alpha_max,
            "replications": self.replications,
            "regenerated": self.regenerated,
            "failed": self.failed,
            "failure_reasons": self.failure_reasons,
            "design": self.design.to_dict(),
            "truth": self.design.truth,
            "elapsed_seconds": self.elapsed,
            "seconds_per_replication": _finite_or_none(self.seconds_per_replication),
            "resumed": self.resumed,
        }


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _reason(message: str) -> str:
    """A failure message without its numbers (so equal reasons count together)."""
    method, _, problem = message.partition(": ")
    if problem.startswith("negative variance"):
        problem = "negative variance"
    return f"{method}: {problem}" if problem else method


def summarize(results: Any, design: StudyDesign, methods: Iterable[Method]) -> StudySummary:
    """Aggregate :class:`~semlang.runner.ReplicationResults` of :class:`MicroMacroTask`."""
    names = [m.value for m in methods]
    truth = np.array([design.truth[t] for t in TERMS])
    bias, mc_se, means = {}, {}, {}
    reps = len(results.results)
    for name in names:
        est = np.array([r["coef"][name] for r in results.results], dtype=float).reshape(reps, 3)
        mean = est.mean(axis=0) if reps else np.full(3, np.nan)
        sd = est.std(axis=0, ddof=1) if reps > 1 else np.full(3, np.nan)
        bias[name] = dict(zip(TERMS, map(float, 100 * (mean - truth) / truth), strict=True))
        se = 100 * sd / math.sqrt(max(reps, 1)) / np.abs(truth)
        mc_se[name] = dict(zip(TERMS, map(float, se), strict=True))
        means[name] = dict(zip(TERMS, map(float, mean), strict=True))
    scores = {}
    for method in SCORE_METHODS:
        pooled = [r["scores"][method.value] for r in results.results if method.value in r["scores"]]
        if pooled:
            scores[method.value] = _score_summary(np.concatenate(pooled))
    alphas = [r["alpha"] for r in results.results if r.get("alpha") is not None]
    reasons: dict[str, int] = {}
    for failure in results.failures:
        key = _reason(failure.message) if failure.kind == "inadmissible" else failure.error
        reasons[key] = reasons.get(key, 0) + 1
    return StudySummary(
        design, tuple(names), reps, results.regenerated, results.n_failed, reasons, bias,
        mc_se, means, scores,
        float(np.mean(alphas)) if alphas else None, float(np.max(alphas)) if alphas else None,
        results.elapsed, results.n_resumed,
    )  # fmt: skip


def run_study(
    design: StudyDesign | None = None,
    reps: int = 1000,
    seed: int | None = 1,
    *,
    methods: Iterable[str | Method] | None = None,
    executor: Any = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    results_path: str | os.PathLike | None = None,
    max_iterations: int = 100,
) -> StudySummary:
    """Run the micro-macro simulation study (see the module docstring).

    ``methods``: names (default: the seven of the published study and ``CV Adj (published
    code)``). ``executor``, ``n_jobs``, ``progress`` and ``results_path`` as in
    :func:`semlang.runner.run_replications` (a results file lets an interrupted study resume).
    ``max_iterations`` bounds each model's optimizer: a fit that needs more counts as not
    converged and its data set is drawn again.
    """
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 2:
        raise OptionError(f"a study needs at least 2 replications, not {reps!r}")
    design = design or StudyDesign()
    chosen = STUDY_METHODS if methods is None else parse_methods(methods)
    task = MicroMacroTask(design, tuple(chosen), max_iterations).prepare()
    run_key = {
        "study": "micro-macro",
        "design": design.to_dict(),
        "methods": [m.value for m in chosen],
        "max_iterations": max_iterations,
    }
    results = run_replications(
        task, reps, seed, executor=executor, n_jobs=n_jobs, progress=progress,
        results_path=results_path, regenerate_failed=True, label="micro-macro study",
        run_key=run_key,
    )  # fmt: skip
    return summarize(results, design, chosen)


def require_matplotlib() -> Any:
    """matplotlib's Figure class, or an OptionError saying how to install it."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise OptionError(
            "plotting needs matplotlib, which is not installed",
            hint="install it with: pip install 'semlang[plot]'",
        ) from exc
    return Figure


def plot_bias(summary: StudySummary, path: str | os.PathLike, published: bool = True) -> None:
    """Save a bar chart of the percent bias by method and term (± 2 Monte Carlo SE) to ``path``.

    ``published``: mark the published values (default design only). Needs matplotlib
    (``pip install 'semlang[plot]'``).
    """
    Figure = require_matplotlib()
    names = list(summary.methods)
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axes = figure.add_subplot()
    width = 0.26
    marked = published and summary.design.is_published
    for k, term in enumerate(TERMS):
        xs = np.arange(len(names)) + (k - 1) * width
        values = [summary.percent_bias[n][term] for n in names]
        errors = [2 * summary.mc_se[n][term] for n in names]
        axes.bar(xs, values, width, yerr=errors, capsize=2, ecolor="0.35", label=term)
        if marked:
            ref = [PUBLISHED["percent_bias"].get(n, {}).get(term, np.nan) for n in names]
            axes.plot(
                xs, ref, linestyle="none", marker="D", markersize=4, color="black",
                label="published" if k == 0 else None,
            )  # fmt: skip
    axes.axhline(0.0, color="black", linewidth=0.8)
    axes.set_xticks(np.arange(len(names)), [n.replace(" (", "\n(") for n in names], rotation=15)
    axes.set_ylabel("percent bias (± 2 Monte Carlo SE)")
    axes.set_title(
        f"Percent bias over {summary.replications} data sets "
        f"({summary.design.n_groups} groups, sigma2_nu = {summary.design.sigma2_nu:g})"
    )
    axes.legend(ncols=4, fontsize="small")
    figure.savefig(path, dpi=120)
