"""efa(rotation_se="delta"): the standard errors of the rotated parameters by the delta method
through the rotation (lavaan's rotation.se = "delta"). The numbers against lavaan 0.6.14 are the
hs_geomin_delta and hs_oblimin_delta cases of tests/test_efa.py; here what holds whatever the
rotation, and the option's errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import semlang
from semlang.errors import NotSupportedError, OptionError

ITEMS = [f"x{i}" for i in range(1, 10)]


def hs():
    return semlang.datasets.load("HolzingerSwineford1939")[ITEMS]


def fitted(rotation: str, rotation_se: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return semlang.efa(hs(), nfactors=3, rotation=rotation, rotation_se=rotation_se)[3]


@pytest.mark.parametrize("rotation", ["geomin", "varimax"])
def test_unique_variances_do_not_depend_on_the_rotation(rotation):
    """A rotation leaves ψ as it is, so the delta method gives ψ the standard errors of the
    unrotated solution, which the bordered information gives too."""
    bordered, delta = fitted(rotation, "bordered"), fitted(rotation, "delta")
    p, m = 9, 3
    psi = slice(p * m, p * m + p)
    np.testing.assert_allclose(delta.se[psi], bordered.se[psi], rtol=1e-6)
    assert delta.options["rotation_se"] == "delta"
    assert not np.allclose(delta.se[: p * m], bordered.se[: p * m], rtol=1e-6)


def test_rotation_se_names_the_two_methods():
    with pytest.raises(OptionError, match="'bordered' or 'delta'"):
        semlang.efa(hs(), nfactors=2, rotation_se="sandwich")


def test_rotation_se_is_case_insensitive_and_defaults_to_bordered():
    assert fitted("oblimin", "Delta").options["rotation_se"] == "delta"
    result = semlang.efa(hs(), nfactors=2, rotation="oblimin")
    assert result[2].options["rotation_se"] == "bordered"


def test_ordered_items_have_no_delta_method():
    with pytest.raises(NotSupportedError, match="not available for ordered items"):
        semlang.efa(hs(), nfactors=2, ordered=True, rotation_se="delta")
