"""Exploratory factor analysis: ``semlang.efa(data, nfactors, rotation=...)`` as lavaan's efa(),
and the rotations on their own (``semlang.efa.rotate``).

Modules: :mod:`.rotation` and :mod:`.criteria` (rotating a loading matrix), :mod:`.extraction`
(the unrotated ML/ULS solution), :mod:`.inference` (standard errors of the rotated parameters),
:mod:`.measures` (fit measures), :mod:`.fit` (``efa()``), :mod:`.ordered` (ordered items, by
WLSMV and kin through the exploratory SEM), :mod:`.results` and :mod:`.summary`.
The package itself is callable: ``semlang.efa(...)`` is :func:`semlang.efa.fit.efa`.
"""

import sys
import types

from .fit import efa, max_factors
from .results import EfaFit, EfaList
from .rotation import Rotation, rotate, stationarity

__all__ = ["EfaFit", "EfaList", "Rotation", "efa", "max_factors", "rotate", "stationarity"]


class _CallableModule(types.ModuleType):
    """This package, callable as its efa() function."""

    def __call__(self, *args, **kwargs):
        return efa(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
