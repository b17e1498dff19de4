"""Syntax tree -> the user's rows: one per ``lhs op rhs`` the text names, modifiers merged.

Input: a :class:`~semlang.syntax.ast.Model`. Output: :class:`UserModel` with the relations of each
level expanded into :class:`UserRow` (``y1 + y2 ~ x`` gives two rows; a term written twice, as in
``0.5*x + a*x``, gives one row with both modifiers) and the ``:=`` and constraint statements.
Conflicting modifiers, a parameter written again by a later statement (lavaan's "duplicate model
element") and misplaced statements raise located errors.
"""

from __future__ import annotations

import warnings
from dataclasses import field

from semlang.errors import ModelSpecificationError, NotSupportedError, SemlangWarning, Span
from semlang.records import dataclass
from semlang.syntax import ast
from semlang.syntax.ast import ModifierKind, Op

_LEVEL_NAMES = {"1": 1, "within": 1, "2": 2, "between": 2}


@dataclass
class UserRow:
    """A row the user wrote (still mutable while modifiers are merged)."""

    lhs: str
    op: Op
    rhs: str
    level: int
    span: Span
    modifiers: dict[ModifierKind, ast.Modifier] = field(default_factory=dict)
    efa: str | None = None  # the exploratory block of the factor (lhs of '=~'), if any

    @property
    def key(self) -> tuple[str, Op, str]:
        return parameter_key(self.lhs, self.op, self.rhs)


def parameter_key(lhs: str, op: Op, rhs: str) -> tuple[str, Op, str]:
    """A parameter's identity: ``a ~~ b`` and ``b ~~ a`` are the same covariance."""
    if op is Op.COVARIANCE and rhs < lhs:
        return rhs, op, lhs
    return lhs, op, rhs


@dataclass(frozen=True)
class UserModel:
    rows_by_level: dict[int, list[UserRow]]
    definitions: tuple[ast.Definition, ...]
    constraints: tuple[ast.Constraint, ...]
    nlevels: int
    variable_spans: dict[str, Span]
    level_spans: dict[int, Span]


def collect(model: ast.Model) -> UserModel:
    """Expand and merge the user's relations, level by level."""
    source = model.source
    rows: dict[int, dict[tuple, UserRow]] = {}
    spans: dict[str, Span] = {}
    level_spans: dict[int, Span] = {}
    definitions, constraints = [], []
    has_levels = any(isinstance(s, ast.BlockHeader) and s.kind == "level" for s in model.statements)
    level = 0 if has_levels else 1
    for statement in model.statements:
        if isinstance(statement, ast.BlockHeader):
            level = _block_level(statement, source, level_spans)
            rows.setdefault(level, {})
        elif isinstance(statement, ast.Definition):
            definitions.append(statement)
        elif isinstance(statement, ast.Constraint):
            constraints.append(statement)
        else:
            if level == 0:
                raise ModelSpecificationError(
                    "in a two-level model every statement belongs to a 'level:' block",
                    source,
                    statement.span,
                    hint="put 'level: 1' (within) or 'level: 2' (between) above this line",
                )
            written: dict[tuple, UserRow] = {}
            for row in _expand(statement, level, source):
                _merge(written, row, source)  # 'a*x + 0.5*x': one row, both modifiers
            for row in written.values():
                if not _add_row(rows.setdefault(level, {}), row, source):
                    continue
                spans.setdefault(row.lhs, _lhs_span(statement, row.lhs))
                if row.rhs:
                    spans.setdefault(row.rhs, _rhs_span(statement, row.rhs))
    if has_levels:
        _check_levels(rows, level_spans, source)
    for found in rows.values():
        _check_paths(found, source)
    return UserModel(
        rows_by_level={lvl: list(found.values()) for lvl, found in sorted(rows.items())},
        definitions=tuple(definitions),
        constraints=tuple(constraints),
        nlevels=max(rows, default=1) if has_levels else 1,
        variable_spans=spans,
        level_spans=level_spans,
    )


def _block_level(header: ast.BlockHeader, source, level_spans: dict[int, Span]) -> int:
    if header.kind != "level":
        raise NotSupportedError(
            f"'{header.kind}:' blocks are not supported yet",
            source,
            header.span,
            hint="for several groups pass group='column' and use c(...) modifiers",
        )
    level = _LEVEL_NAMES.get(header.value.lower())
    if level is None:
        raise ModelSpecificationError(
            f"unknown level {header.value!r}",
            source,
            header.span,
            hint="semlang fits two levels: 'level: 1' (or within) and 'level: 2' (or between)",
        )
    if level in level_spans:
        raise ModelSpecificationError(
            f"'level: {header.value}' appears twice", source, header.span,
            hint="write all statements of a level in one block",
        )  # fmt: skip
    level_spans[level] = header.span
    return level


def _check_levels(rows, level_spans, source) -> None:
    for level in (1, 2):
        if level not in level_spans:
            other = level_spans[3 - level]
            raise ModelSpecificationError(
                f"a two-level model needs a 'level: {level}' block",
                source,
                other,
                hint="write both 'level: 1' and 'level: 2' blocks",
            )
        if not rows.get(level):
            raise ModelSpecificationError(
                f"the 'level: {level}' block is empty", source, level_spans[level],
                hint="give each level at least one statement (e.g. 'x ~~ x')",
            )  # fmt: skip


def _expand(relation: ast.Relation, level: int, source) -> list[UserRow]:
    out = []
    for name in relation.lhs:
        for term in relation.rhs:
            _check_term(relation, name, term, source)
            rhs = "" if relation.op is Op.INTERCEPT else term.name
            row = UserRow(name.name, relation.op, rhs, level, term.span, efa=name.efa)
            for modifier in term.modifiers:
                _add_modifier(row, modifier, source)
            out.append(row)
    return out


def _check_term(relation: ast.Relation, name: ast.Name, term: ast.Term, source) -> None:
    op = relation.op
    if term.name == "1" and op in (Op.MEASURED, Op.COVARIANCE):
        raise ModelSpecificationError(
            f"'1' cannot be used with '{op.value}'",
            source,
            term.name_span,
            hint="intercepts are written 'y ~ 1'",
        )
    if term.name == name.name and op in (Op.MEASURED, Op.REGRESSION, Op.FORMATIVE):
        what = {Op.MEASURED: "measure itself", Op.FORMATIVE: "be a composite of itself"}.get(
            op, "be regressed on itself"
        )
        raise ModelSpecificationError(
            f"'{name.name}' cannot {what}", source, term.name_span,
            hint="a variable on the left must differ from the variables on the right",
        )  # fmt: skip


def _check_paths(rows: dict[tuple, UserRow], source) -> None:
    """A path written both as ``f =~ y`` and ``y ~ f`` would be two parameters for one effect."""
    for row in rows.values():
        if row.op is not Op.REGRESSION:
            continue
        loading = rows.get((row.rhs, Op.MEASURED, row.lhs))
        if loading is not None:
            line = source.location(loading.span.start)[0]
            raise ModelSpecificationError(
                f"'{row.lhs} ~ {row.rhs}' is the same path as '{row.rhs} =~ {row.lhs}' "
                f"(line {line})",
                source,
                row.span,
                hint=f"remove one of the two: '{row.rhs} =~ {row.lhs}' already makes "
                f"{row.lhs} depend on {row.rhs}",
            )


def _check_bounds(row: UserRow, source) -> None:
    lower = row.modifiers.get(ModifierKind.LOWER)
    upper = row.modifiers.get(ModifierKind.UPPER)
    if lower is None or upper is None:
        return
    n = max(len(lower.values), len(upper.values))
    for group in range(1, n + 1):
        low = lower.for_group(group) if len(lower.values) in (1, n) else None
        high = upper.for_group(group) if len(upper.values) in (1, n) else None
        if low is not None and high is not None and float(low) > float(high):
            raise ModelSpecificationError(
                f"the lower bound {float(low):g} of '{_row_name(row)}' is above its upper "
                f"bound {float(high):g}",
                source,
                upper.span.merge(lower.span),
                hint="swap the bounds, or remove one",
            )


def _add_modifier(row: UserRow, modifier: ast.Modifier, source) -> None:
    existing = row.modifiers.get(modifier.kind)
    if existing is not None and existing.values != modifier.values:
        what = {
            ModifierKind.VALUE: "fixed values",
            ModifierKind.LABEL: "labels",
            ModifierKind.START: "starting values",
        }.get(modifier.kind, f"{modifier.kind.value}() values")
        raise ModelSpecificationError(
            f"conflicting {what} for '{_row_name(row)}': "
            f"{_show(existing.values)} and {_show(modifier.values)}",
            source,
            modifier.span,
            hint="give each parameter one value; remove one of the two",
        )
    row.modifiers[modifier.kind] = modifier
    if modifier.kind in (ModifierKind.LOWER, ModifierKind.UPPER):
        _check_bounds(row, source)


def _merge(rows: dict[tuple, UserRow], row: UserRow, source) -> None:
    existing = rows.get(row.key)
    if existing is None:
        rows[row.key] = row
        return
    for modifier in row.modifiers.values():
        _add_modifier(existing, modifier, source)


def _add_row(rows: dict[tuple, UserRow], row: UserRow, source) -> bool:
    """Add a row of a new statement; one already written by an earlier statement is lavaan's
    "duplicate model element" (an error), except ``a ~~ b`` written again the same way round,
    which lavaan ignores with a warning. Returns whether the row was added."""
    existing = rows.get(row.key)
    if existing is None:
        rows[row.key] = row
        return True
    line = source.location(existing.span.start)[0]
    same_way = existing.lhs == row.lhs and existing.lhs != existing.rhs
    if row.op is Op.COVARIANCE and same_way:
        warnings.warn(
            f"'{_row_name(row)}' (line {source.location(row.span.start)[0]}) repeats line "
            f"{line} and is ignored, as lavaan does; put all of a parameter's modifiers in one "
            "place",
            SemlangWarning,
            stacklevel=2,
        )
        return False
    raise ModelSpecificationError(
        f"duplicate model element: '{_row_name(row)}' is already specified on line {line}",
        source,
        row.span,
        hint=f"write '{_row_name(row)}' once, with all its modifiers on that one term",
    )


def _row_name(row: UserRow) -> str:
    return f"{row.lhs} ~1" if row.op is Op.INTERCEPT else f"{row.lhs} {row.op.value} {row.rhs}"


def _show(values) -> str:
    shown = ["NA" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)) for v in values]
    return shown[0] if len(shown) == 1 else "c(" + ", ".join(shown) + ")"


def _lhs_span(relation: ast.Relation, name: str) -> Span:
    return next((n.span for n in relation.lhs if n.name == name), relation.span)


def _rhs_span(relation: ast.Relation, name: str) -> Span:
    return next((t.name_span for t in relation.rhs if t.name == name), relation.span)
