"""The parameter table: one immutable row per parameter, lavaan's central structure.

Input: nothing (these are the types). Built by :func:`semlang.partable.build_partable`; read by
the graph, the compiler and the results. Vocabulary follows lavaan: ``lhs op rhs``, ``block``,
``group``, ``level``, ``free`` (0 = fixed, k = the k-th free parameter; rows sharing a label share
k), ``value`` (a fixed row's value; NaN for ``exo`` rows, filled from the data at fit time).
"""

from __future__ import annotations

import math
from dataclasses import field
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING

from semlang.errors import Source, Span
from semlang.options import ModelOptions
from semlang.records import dataclass
from semlang.syntax import ast
from semlang.syntax.ast import Op

if TYPE_CHECKING:  # imported by to_frame: reading a model does not load pandas
    import pandas as pd

# the operators of rows that are matrix entries ('<~': a composite's weight, placed as '~')
_MODEL_OPS = frozenset(
    (
        Op.MEASURED,
        Op.REGRESSION,
        Op.FORMATIVE,
        Op.COVARIANCE,
        Op.INTERCEPT,
        Op.THRESHOLD,
        Op.SCALING,
    )
)


@dataclass(frozen=True, slots=True)
class ParamRow:
    """One parameter (or a ``:=`` / constraint row); slotted, as a table can have hundreds of
    thousands of rows."""

    id: int
    lhs: str
    op: Op
    rhs: str
    block: int = 1
    group: int = 1
    level: int = 1
    user: bool = False
    free: int = 0
    value: float = math.nan
    start: float = math.nan
    label: str = ""
    plabel: str = ""
    exo: bool = False
    lower: float = -math.inf
    upper: float = math.inf
    span: Span | None = None
    statement: ast.Definition | ast.Constraint | None = field(default=None, compare=False)

    @property
    def is_free(self) -> bool:
        return self.free > 0

    def set_while_building(self, **changes) -> None:
        """Change fields of a row in place: only for a row still being built, which nothing
        else holds yet (cheaper than a copy for each of hundreds of thousands of rows)."""
        for name, value in changes.items():
            _set(self, name, value)

    @property
    def is_model_parameter(self) -> bool:
        """True for rows that are matrix entries (not ``:=`` or constraint rows)."""
        return self.op in _MODEL_OPS

    @property
    def name(self) -> str:
        """lavaan's name of the parameter, e.g. ``f=~x2`` or ``x1~1``."""
        return (
            f"{self.lhs}{self.op.value}{self.rhs}"
            if self.op is not Op.INTERCEPT
            else (f"{self.lhs}~1")
        )


_set = object.__setattr__
_CONSTRAINT_OPS = frozenset((Op.EQUAL, Op.LESS, Op.GREATER))
_OP_TEXT = {op: op.value for op in Op}  # (an enum's .value is a slow property)
_FRAME_COLUMNS = (
    "id", "lhs", "op", "rhs", "block", "group", "level", "user", "free", "value", "start", "label",
    "plabel", "exo",
)  # fmt: skip


@dataclass(frozen=True)
class BlockVariables:
    """The variables of one block (a group, or a level within a group), in lavaan's order."""

    index: int
    group: int
    level: int
    observed: tuple[str, ...]
    latent: tuple[str, ...]
    observed_exogenous: tuple[str, ...]
    latent_exogenous: tuple[str, ...]
    endogenous: tuple[str, ...]
    indicators: tuple[str, ...]

    @property
    def variables(self) -> tuple[str, ...]:
        """Observed then latent: the order of the RAM matrices of this block."""
        return self.observed + self.latent


@dataclass(frozen=True, repr=False)
class ParameterTable:
    """The rows of a model plus what every later stage needs to know about its blocks (its
    repr, and a notebook's display, is the table of :meth:`to_frame`)."""

    rows: tuple[ParamRow, ...]
    blocks: tuple[BlockVariables, ...]
    ngroups: int
    nlevels: int
    group_labels: tuple[str, ...]
    meanstructure: bool
    options: ModelOptions
    source: Source
    variable_spans: dict[str, Span] = field(default_factory=dict, compare=False)
    # the exploratory blocks (efa("b1")*f1 + ... =~ ...): semlang.partable.efa_blocks.EfaSet
    efa_sets: tuple = ()

    @cached_property
    def n_free(self) -> int:
        """Number of distinct free parameters (shared labels counted once)."""
        return max(map(attrgetter("free"), self.rows), default=0)

    @cached_property
    def observed(self) -> tuple[str, ...]:
        """Every observed variable of the model, in order of first appearance."""
        seen: dict[str, None] = {}
        for block in self.blocks:
            seen.update(dict.fromkeys(block.observed))
        return tuple(seen)

    @cached_property
    def latent(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for block in self.blocks:
            seen.update(dict.fromkeys(block.latent))
        return tuple(seen)

    @cached_property
    def parameters(self) -> tuple[ParamRow, ...]:
        """The rows that are model parameters (no ``:=`` or constraint rows)."""
        return tuple(r for r in self.rows if r.op in _MODEL_OPS)

    @cached_property
    def definitions(self) -> tuple[ParamRow, ...]:
        return tuple(r for r in self.rows if r.op is Op.DEFINED)

    @cached_property
    def constraints(self) -> tuple[ParamRow, ...]:
        return tuple(r for r in self.rows if r.op in _CONSTRAINT_OPS)

    def block_rows(self, block: int) -> tuple[ParamRow, ...]:
        return self._rows_by_block.get(block, ())

    @cached_property
    def _rows_by_block(self) -> dict[int, tuple[ParamRow, ...]]:
        out: dict[int, list[ParamRow]] = {}
        for row in self.parameters:
            out.setdefault(row.block, []).append(row)
        return {block: tuple(rows) for block, rows in out.items()}

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame with lavaan's columns (and the source line of each row)."""
        import pandas as pd

        return pd.DataFrame(self.to_columns())

    def to_columns(self) -> dict[str, list]:
        """The columns of :meth:`to_frame` as lists (the level column only with two levels),
        without pandas."""
        rows = self.rows
        location = self.source.location

        def column(name: str) -> list:
            return list(map(attrgetter(name), rows))  # (faster than a comprehension per row)

        columns = {name: column(name) for name in _FRAME_COLUMNS}
        columns["op"] = list(map(_OP_TEXT.__getitem__, columns["op"]))
        columns["user"] = list(map(int, columns["user"]))
        columns["exo"] = list(map(int, columns["exo"]))
        columns["line"] = [
            location(span.start)[0] if span is not None else None for span in column("span")
        ]
        if self.nlevels == 1:
            del columns["level"]
        return columns

    def to_records(self) -> list[dict]:
        """The rows of :meth:`to_frame` as dicts (the level column only with two levels)."""
        records = []
        for row in self.rows:
            line = self.source.location(row.span.start)[0] if row.span is not None else None
            records.append(
                {
                    "id": row.id,
                    "lhs": row.lhs,
                    "op": row.op.value,
                    "rhs": row.rhs,
                    "block": row.block,
                    "group": row.group,
                    "level": row.level,
                    "user": int(row.user),
                    "free": row.free,
                    "value": row.value,
                    "start": row.start,
                    "label": row.label,
                    "plabel": row.plabel,
                    "exo": int(row.exo),
                    "line": line,
                }
            )
        if self.nlevels == 1:
            for record in records:
                del record["level"]
        return records

    def _shown(self) -> pd.DataFrame:
        frame = self.to_frame().drop(columns=["line", "plabel"])
        frame["label"] = frame["label"].fillna("")
        return frame.drop(columns=["block", "group"]) if len(self.blocks) == 1 else frame

    def _title(self) -> str:
        return (
            f"ParameterTable of {self.source.name}: {len(self.rows)} rows, {self.n_free} free "
            f"parameters, {len(self.blocks)} block{'s' if len(self.blocks) != 1 else ''}"
        )

    def __repr__(self) -> str:
        return f"{self._title()}\n{self._shown().to_string(index=False)}"

    def _repr_html_(self) -> str:
        import html

        return f"<p>{html.escape(self._title())}</p>\n{self._shown().to_html(index=False)}"
