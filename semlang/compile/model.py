"""Parameter table -> :class:`CompiledModel`, the reusable product of compilation.

Input: a :class:`~semlang.partable.ParameterTable`. Output: a frozen :class:`CompiledModel`
holding one :class:`~semlang.compile.layout.RamLayout` per block and the
:class:`~semlang.compile.parameters.ParameterSpace` (θ, φ, ``:=``, constraints). It holds no data:
one compiled model fits any number of data sets (simulations, bootstrap, groups of a study).
"""

from __future__ import annotations

import numpy as np

from semlang.compile.layout import RamLayout, build_layout
from semlang.compile.parameters import ParameterSpace, build_parameter_space
from semlang.compile.ram import ExoValues, ImpliedMoments
from semlang.partable.table import ParameterTable
from semlang.records import dataclass


@dataclass(frozen=True)
class CompiledModel:
    table: ParameterTable
    layouts: tuple[RamLayout, ...]
    space: ParameterSpace

    @property
    def n_theta(self) -> int:
        return self.space.n_theta

    @property
    def n_phi(self) -> int:
        return self.space.n_phi

    def implied(
        self, theta: np.ndarray, exo: tuple[ExoValues, ...] | None = None
    ) -> tuple[ImpliedMoments, ...]:
        """The implied moments of every block at θ."""
        return tuple(
            ImpliedMoments.at(layout, theta, exo[k] if exo is not None else None)
            for k, layout in enumerate(self.layouts)
        )


def compile_model(table: ParameterTable) -> CompiledModel:
    """Compile a parameter table (no data needed)."""
    layouts = tuple(build_layout(block, table.block_rows(block.index)) for block in table.blocks)
    return CompiledModel(table=table, layouts=layouts, space=build_parameter_space(table))
