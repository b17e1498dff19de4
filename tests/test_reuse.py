"""A compiled model is reused: fitting it to many data sets parses, builds the parameter table,
compiles and differentiates (sympy) only once; it pickles (lambdified code is dropped and rebuilt)
and the unpickled model fits the same."""

import pickle
import warnings

import numpy as np
import pytest
import sympy

import semlang
import semlang.api

MEDIATION = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + y3 + y4
  dem65 =~ y5 + b*y6 + y7 + y8
  dem60 ~ c*ind60
  dem65 ~ d*ind60 + e*dem60
  b == a^2
  indirect := c*e
  total := d + indirect
"""


@pytest.fixture(scope="module")
def poldem():
    return semlang.datasets.load("PoliticalDemocracy")


def resamples(data, count: int, seed: int = 5):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield data.iloc[rng.integers(0, len(data), len(data))].reset_index(drop=True)


class Counter:
    def __init__(self, function):
        self.function = function
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.function(*args, **kwargs)


def test_fitting_again_does_not_parse_compile_or_differentiate(poldem, monkeypatch):
    compiled = semlang.compile_model(MEDIATION, "sem")
    first = semlang.fit(compiled, poldem)
    first.estimates()
    counters = {}
    for module, name in [
        (semlang.api, "parse"),
        (semlang.api, "build_partable"),
        (semlang.api, "_compile"),
        (sympy, "lambdify"),  # the module semlang.compile.symbolic imports where it needs it
        (sympy, "diff"),
        (sympy, "solve"),
    ]:
        counters[name] = Counter(getattr(module, name))
        monkeypatch.setattr(module, name, counters[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        for data in resamples(poldem, 5):
            fit = semlang.fit(compiled, data)
            fit.estimates()
            fit.fit_measures()
    assert {name: c.calls for name, c in counters.items()} == dict.fromkeys(counters, 0)


def test_the_same_data_fit_twice_gives_the_same_result(poldem):
    compiled = semlang.compile_model(MEDIATION, "sem")
    a, b = semlang.fit(compiled, poldem), semlang.fit(compiled, poldem)
    np.testing.assert_array_equal(a.theta, b.theta)
    direct = semlang.sem(MEDIATION, poldem)
    np.testing.assert_allclose(a.theta, direct.theta, rtol=1e-12)


def test_a_compiled_model_pickles_without_lambdified_code(poldem):
    compiled = semlang.compile_model(MEDIATION, "sem")
    before = semlang.fit(compiled, poldem)
    before.estimates()  # builds the lambdified functions
    space = compiled.space
    assert space.definitions._value is not None and space.theta_of_phi._jacobian is not None
    restored = pickle.loads(pickle.dumps(compiled))
    assert restored.space.definitions._value is None
    assert restored.space.theta_of_phi._value is None
    assert restored.space.theta_of_phi._jacobian is None
    after = semlang.fit(restored, poldem)
    np.testing.assert_allclose(after.theta, before.theta, rtol=1e-12)
    a, b = before.estimates(), after.estimates()
    for column in ("est", "se", "std_all", "std_lv"):
        np.testing.assert_allclose(a[column], b[column], rtol=1e-10, equal_nan=True)
    assert after.fit_measures() == pytest.approx(before.fit_measures(), rel=1e-10)


def test_an_unpickled_model_fits_other_data_sets(poldem):
    compiled = pickle.loads(pickle.dumps(semlang.compile_model(MEDIATION, "sem")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        for data in resamples(poldem, 3, seed=9):
            reference = semlang.sem(MEDIATION, data)
            fit = semlang.fit(compiled, data)
            np.testing.assert_allclose(fit.theta, reference.theta, rtol=1e-8, atol=1e-10)


def test_a_compiled_model_meets_only_the_groups_it_was_compiled_for():
    # rows of a group the model does not know would be left out silently, a group without rows
    # fitted empty: both are errors, as are mismatched group options
    from semlang.errors import DataError, OptionError

    data = semlang.datasets.load("HolzingerSwineford1939")
    model = "visual =~ x1 + x2 + x3"
    compiled = semlang.compile_model(model, group="school", group_labels=("Pasteur", "Grant-White"))
    assert semlang.fit(compiled, data).converged
    third = data.assign(school=np.where(np.arange(len(data)) < 10, "Third", data.school))
    with pytest.raises(DataError, match="group\\(s\\) 'Third' in 'school' that the model"):
        semlang.fit(compiled, third)
    with pytest.raises(DataError, match="'Grant-White' of the model have no rows"):
        semlang.fit(compiled, data[data.school == "Pasteur"])
    with pytest.raises(OptionError, match="group_labels= needs group="):
        semlang.compile_model(model, group_labels=("Pasteur", "Grant-White"))
    with pytest.raises(OptionError, match="needs group_labels="):
        semlang.compile_model(model, group="school")
    with pytest.raises(OptionError, match="takes a compiled model, not a str"):
        semlang.fit(model, data)
