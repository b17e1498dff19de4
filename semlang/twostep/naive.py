"""Naive factor-score regression: score the latent variables, then fit the structural part.

Input: model text, data, the score method and options. Output: an
:class:`~semlang.twostep.result.FsrResult` whose estimates are those of the structural model fitted
by ML to the scores (and the observed structural variables), with that fit's standard errors —
which ignore that the scores are estimates.

- "regression" / "bartlett": one CFA of all latent variables (correlated), scored by one method.
  Regression scores shrink toward the mean: slopes on them are biased unless the regressors'
  reliability is 1; Bartlett scores are unbiased as outcomes but attenuate slopes as predictors.
- "skrondal_laake" (Skrondal & Laake, 2001): the predictors' latent variables scored by
  regression from a CFA of the predictors only, the outcomes' by Bartlett from a CFA of the
  outcomes only. Consistent for the slopes when no variable is both (no mediation); a model
  with mediation raises an error, as lavaan.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from semlang.errors import NotSupportedError
from semlang.results.scores import predict
from semlang.twostep import common, parts
from semlang.twostep.result import COLUMNS, FsrResult
from semlang.twostep.split import ModelSplit, split_model


def naive(model: str, data: Any, method: str, **options: Any) -> FsrResult:
    """Regression of the structural part on factor scores of one kind, or Skrondal-Laake's."""
    import semlang

    options, fit_options = common.two_step_options(options, "fsr()")
    table = semlang.parameter_table(model, "sem", **options)
    split = split_model(table)
    ms = bool(table.meanstructure)
    if method == "skrondal_laake":
        groups = _skrondal_laake_groups(split)
    else:
        groups = [(split.latent, method)]
    measurement_table = parts.measurement_table(
        split, [g for g, _ in groups], common.part_options(options, meanstructure=ms)
    )
    frame = common.data_frame(data, table)
    if not measurement_table.options.missing.is_fiml:
        frame = common.complete_rows(frame, table.observed)
    measurement = common.measurement_fit(
        measurement_table, common.sample(frame, measurement_table), fit_options
    )
    methods = {f: m for g, m in groups for f in g}
    scores = {m: predict(measurement, method=m) for m in set(methods.values())}
    values = pd.DataFrame({f: scores[m][f] for f, m in methods.items()})
    values.index = frame.index[values.index]
    values = pd.concat([values, frame.loc[values.index, list(split.observed_structural)]], axis=1)
    values = values[list(split.structural_variables)]
    structural_table = parts.structural_table(
        split, common.part_options(options, meanstructure=ms, fixed_x=False), {}
    )
    structural = common.structural_fit(
        structural_table, common.sample(values, structural_table), fit_options
    )
    cov = values.cov(ddof=0)
    name = {"regression": "regression scores", "bartlett": "Bartlett scores",
            "skrondal_laake": "Skrondal-Laake"}[method]  # fmt: skip
    return FsrResult(f"fsr (naive, {name})", len(values), structural.estimates()[COLUMNS],
                     tuple(g for g, _ in groups), (measurement,), lambda: structural,
                     cov.to_numpy(), tuple(cov.columns))  # fmt: skip


def _skrondal_laake_groups(split: ModelSplit) -> list[tuple[tuple[str, ...], str]]:
    both = [n for n in split.predictors if n in split.outcomes]
    if both:
        raise NotSupportedError(
            "the Skrondal-Laake method does not allow mediation: "
            + ", ".join(both)
            + " both predict and are predicted",
            split.table.source,
            split.table.variable_spans.get(both[0]),
            hint="use method='croon' or semlang.sam()",
        )
    outcomes = tuple(f for f in split.latent if f in split.outcomes)
    predictors = tuple(f for f in split.latent if f not in split.outcomes)
    for block in split.blocks:
        if set(block.latent) & set(outcomes) and set(block.latent) & set(predictors):
            raise NotSupportedError(
                "the Skrondal-Laake method scores predictors and outcomes in separate "
                "measurement models, but " + " and ".join(block.latent) + " share indicators "
                "or correlated residuals",
                split.table.source,
                hint="use semlang.sam()",
            )
    return [(g, m) for g, m in ((predictors, "regression"), (outcomes, "bartlett")) if g]
