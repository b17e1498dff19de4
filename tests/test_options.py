"""Options: lavaan's names and values are accepted, anything else is a clear error."""

import pytest

from semlang.errors import OptionError
from semlang.options import Estimator, Information, Missing, StandardErrors, make_options


def test_lavaan_spellings_and_aliases():
    options = make_options("sem", **{"std.lv": True, "missing": "ml", "se": "robust"})
    assert options.std_lv and not options.auto_fix_first  # std.lv frees the first loadings
    assert options.missing is Missing.FIML
    assert options.effective_se is StandardErrors.ROBUST
    assert options.effective_information is Information.OBSERVED  # as lavaan for robust SEs
    assert make_options("sem", estimator="mlr").effective_se is StandardErrors.ROBUST
    assert make_options("sem", estimator="MLR").estimator is Estimator.MLR


@pytest.mark.parametrize(
    "options, message",
    [
        ({"std_lvv": True}, "unknown option 'std_lvv'"),
        ({"std_lv": "yes"}, "must be True or False"),
        ({"estimator": "GLS"}, "cannot be 'GLS'"),
        ({"bootstrap": 0}, "positive whole number"),
        ({"meanstructure": "sometimes"}, "True, False or None"),
        ({"group": 3}, "column name"),
        ({"start": "simple"}, "'start' can only be 'default'"),
        ({"progress": "yes"}, "'progress' must be True, False or None"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(OptionError, match=message):
        make_options("sem", **options)
