"""Exploratory factor analysis: rotations (:mod:`.rotation`) and lavaan's efa() (:mod:`.fit`)."""

from .rotation import Rotation, rotate

__all__ = ["Rotation", "rotate"]
