"""How the published ``CV Adj`` column varies from one 1000-data-set study to the next.

The published ``CV Adj`` scores and coefficients were computed from the true group scores with
the ANOVA degrees of freedom exchanged (``semlang.micromacro.article_cv``). That computation's
weight has a denominator that crosses zero, so its coefficients have no finite expectation: the
mean over 1000 data sets is one draw from a wide, heavy-tailed distribution. This script runs
independent studies of the published design (seeds 1, 2, ...; a data set is drawn again when the
one-factor model fails, as published) with ``CV Adj (published code)`` and Croon & van
Veldhoven's ``CV Adj``, and prints each study's percent bias and score spread beside the
published values.

Run: python examples/micro_macro/published_cv_spread.py [--studies 10] [--reps 1000]
"""

from __future__ import annotations

import argparse

import numpy as np

from semlang.micromacro.study import PUBLISHED, StudyDesign, run_study

ARTICLE = "CV Adj (published code)"
METHODS = ("Factor Score", "CV Adj", ARTICLE)  # Factor Score: the published regeneration rule
COLUMNS = ("Intercept", "Z", "X", "sd", "min", "q1", "q3", "max")


def study_row(seed: int, reps: int) -> tuple[list[float], float]:
    """The published-code column's bias and score summary, and CV Adj's X bias, of one study."""
    summary = run_study(StudyDesign(), reps=reps, seed=seed, methods=METHODS, progress=False)
    bias, scores = summary.percent_bias[ARTICLE], summary.scores[ARTICLE]
    values = [bias[t] for t in COLUMNS[:3]] + [scores[c] for c in COLUMNS[3:]]
    return values, summary.percent_bias["CV Adj"]["X"]


def main(studies: int = 10, reps: int = 1000) -> str:
    head = f"{'study':<10}" + "".join(f"{c:>9}" for c in COLUMNS) + f"{'CV Adj X':>11}"
    lines = [f"{ARTICLE}: percent bias and group scores, {reps} data sets per study", head]
    rows, faithful = [], []
    for seed in range(1, studies + 1):
        values, cv_x = study_row(seed, reps)
        rows.append(values)
        faithful.append(cv_x)
        numbers = "".join(f"{v:>9.2f}" for v in values)
        lines.append(f"{'seed ' + str(seed):<10}{numbers}{cv_x:>11.2f}")
    published = [PUBLISHED["percent_bias"][ARTICLE][t] for t in COLUMNS[:3]]
    published += [PUBLISHED["scores"][ARTICLE][c] for c in COLUMNS[3:]]
    lines.append(f"{'published':<10}" + "".join(f"{v:>9.2f}" for v in published))
    table = np.array(rows)
    lines.append(f"{'median':<10}" + "".join(f"{v:>9.2f}" for v in np.median(table, axis=0)))
    lines.append(f"{'lowest':<10}" + "".join(f"{v:>9.2f}" for v in table.min(axis=0)))
    lines.append(f"{'highest':<10}" + "".join(f"{v:>9.2f}" for v in table.max(axis=0)))
    mean, sd = float(np.mean(faithful)), float(np.std(faithful, ddof=1))
    lines.append(f"CV Adj X over the {studies} studies: mean {mean:.2f}, SD {sd:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=10)
    parser.add_argument("--reps", type=int, default=1000)
    args = parser.parse_args()
    print(main(args.studies, args.reps))
