"""Example data shipped with semlang (see ``README.md`` in this folder for provenance).

``load(name)`` returns a pandas DataFrame; ``path(name)`` the CSV (or model) file itself.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from semlang.errors import DataError

_FILES = {
    "bfi": "bfi.csv",
    "bigfive_agree": "bigfive_agree.csv",
    "HolzingerSwineford1939": "HolzingerSwineford1939.csv",
    "PoliticalDemocracy": "PoliticalDemocracy.csv",
    "Demo.growth": "Demo.growth.csv",
    "Demo.twolevel": "Demo.twolevel.csv",
    "micro_macro_long": "micro_macro_long.csv",
    "micro_macro_wide": "micro_macro_wide.csv",
    "micro_macro_unbalanced_long": "micro_macro_unbalanced_long.csv",
    "micro_macro_unbalanced_wide": "micro_macro_unbalanced_wide.csv",
    "large_cfa_p100": "large_cfa_p100.csv",
}

_ALIASES = {
    "holzinger_swineford": "HolzingerSwineford1939",
    "hs": "HolzingerSwineford1939",
    "political_democracy": "PoliticalDemocracy",
    "poldem": "PoliticalDemocracy",
    "demo_growth": "Demo.growth",
    "demo_twolevel": "Demo.twolevel",
}


def names() -> list[str]:
    """The names ``load`` accepts."""
    return sorted(_FILES)


def path(name: str) -> Path:
    """The shipped file of a data set (``.csv``) or of a model (any name ending in ``.sem``)."""
    file = name if name.endswith(".sem") else _FILES.get(_ALIASES.get(name, name))
    if file is None:
        raise DataError(
            f"no shipped data set called {name!r}",
            hint="choose one of: " + ", ".join(names()),
        )
    here = Path(__file__).parent / file
    if here.exists():  # a package of plain files (importlib.resources' readers cost milliseconds)
        return here
    with resources.as_file(resources.files(__name__) / file) as found:
        if not found.exists():
            raise DataError(f"no shipped file called {file!r}")
        return found


def load(name: str) -> pd.DataFrame:
    """A shipped data set as a DataFrame (empty cells are missing values)."""
    return pd.read_csv(path(name))
