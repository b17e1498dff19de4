"""ML's complete-data moment weight as a quadratic form equals the dense weight matrix."""

from __future__ import annotations

import numpy as np
import pytest

import semlang
from semlang.results import indices

MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + sex\n"


@pytest.mark.parametrize(
    "options", [{}, {"meanstructure": True}, {"group": "school"}, {"fixed_x": False}]
)
def test_quadratic_form_equals_the_dense_weight(options):
    fit = semlang.sem(MODEL, semlang.datasets.load("HolzingerSwineford1939"), **options)
    rng = np.random.default_rng(7)
    for form in indices.normal_weights(fit):
        dense = form.dense()
        assert dense.shape == (len(form.keep),) * 2
        assert (~form.keep).any() == fit.table.options.fixed_x  # the covariates' own moments
        for _ in range(3):
            v = rng.normal(size=len(form.keep))
            assert form(v) == pytest.approx(v @ dense @ v, rel=1e-12)
