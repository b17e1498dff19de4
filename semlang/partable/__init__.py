"""Stage 2: syntax tree -> parameter table (lavaan's defaults applied).

The table is lavaan's central structure: one row per parameter. See :mod:`.build` for how it is
made, :mod:`.table` for the row and table types. (A sub-package rather than one module: each step
of lavaan's rules — user rows, variable roles, defaults, equalities — is a module of its own.)
"""

from semlang.partable.build import build_partable
from semlang.partable.table import BlockVariables, ParameterTable, ParamRow

__all__ = ["BlockVariables", "ParamRow", "ParameterTable", "build_partable"]
