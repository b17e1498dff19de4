"""Parameter table -> path graph: a networkx view, structural checks and a Graphviz diagram.

Input: a :class:`~semlang.partable.ParameterTable`. Output: :func:`path_graph` (an
``nx.DiGraph``; networkx is imported for it, not for the checks, which use the same nodes and
paths held in plain dicts), :func:`check` (warnings; errors when the data's columns are known),
:func:`to_dot` (Graphviz DOT text) and :func:`render_diagram` (a file); the diagram
itself, with or without estimates, is :mod:`semlang.diagram`'s.

The graph has one node per variable and block, keyed ``(name, block)`` (a multi-group or
two-level model has the same name in several blocks). Node attributes: ``name``, ``block``,
``group``, ``level``, ``kind`` (``"latent"``/``"observed"``), ``latent``, ``observed``,
``exogenous`` (no path points to it), ``endogenous``, ``indicator`` (measured by a latent
variable), ``fixed_x`` (an exogenous covariate whose moments are fixed at their sample values)
and ``line`` (the model line where the name first appears, or ``None``). Directed edges are the
paths: loadings (latent -> indicator, ``kind="loading"``, ``op="=~"``) and regressions
(predictor -> outcome, ``kind="regression"``, ``op="~"``), with the parameter row's ``row`` id,
``label``, ``free`` index, ``value`` (NaN when free), ``fixed`` and ``line``. Covariances are
not paths: they live in an undirected ``nx.Graph`` on the same nodes, ``graph.graph
["covariances"]`` (``kind="covariance"``, ``op="~~"``, plus ``exo`` for the fixed covariances of
exogenous covariates); see :func:`covariances`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from semlang.errors import (
    ModelSpecificationError,
    Span,
    UnknownVariableError,
)
from semlang.partable import ParameterTable, ParamRow
from semlang.syntax.ast import Op

if TYPE_CHECKING:
    import networkx as nx

Node = tuple[str, int]

_PATH_KINDS = {Op.MEASURED: "loading", Op.REGRESSION: "regression"}


# ---- the graph -----------------------------------------------------------------------------


def path_graph(table: ParameterTable, with_covariances: bool = True) -> nx.DiGraph:
    """The variables of every block as nodes, loadings and regressions as directed edges (and
    the covariances, unless ``with_covariances`` is false: the structural checks need none, and
    a model with many correlated factors has hundreds of thousands)."""
    import networkx as nx

    paths = _Paths(table)
    graph = nx.DiGraph(
        name=table.source.name,
        ngroups=table.ngroups,
        nlevels=table.nlevels,
        group_labels=table.group_labels,
    )
    graph.add_nodes_from(paths.nodes.items())
    graph.add_edges_from((u, v, data) for (u, v), data in paths.edges.items())
    undirected = nx.Graph()
    undirected.add_nodes_from(paths.nodes)
    if with_covariances:
        for row in table.parameters:
            if row.op is Op.COVARIANCE and row.lhs != row.rhs:
                undirected.add_edge(
                    (row.lhs, row.block),
                    (row.rhs, row.block),
                    kind="covariance",
                    **_row(table, row),
                )
    graph.graph["covariances"] = undirected
    return graph


class _Paths:
    """The nodes (with the attributes :func:`path_graph` gives them) and the directed paths of a
    table, in plain dicts: what the structural checks need, without networkx."""

    def __init__(self, table: ParameterTable):
        self.nodes: dict[Node, dict[str, Any]] = {}
        self.edges: dict[tuple[Node, Node], dict[str, Any]] = {}
        self.successors: dict[Node, list[Node]] = {}
        self.predecessors: dict[Node, list[Node]] = {}
        for block in table.blocks:
            for name in block.variables:
                latent = name in block.latent
                self.nodes[(name, block.index)] = {
                    "name": name,
                    "block": block.index,
                    "group": block.group,
                    "level": block.level,
                    "kind": "latent" if latent else "observed",
                    "latent": latent,
                    "observed": not latent,
                    "fixed_x": name in block.observed_exogenous and table.options.fixed_x,
                    "line": _line(table, table.variable_spans.get(name)),
                }
        nodes = self.nodes
        self._names: dict[int, set[str]] = {}  # block -> its nodes' names (cheaper to look up)
        for name, block_index in nodes:
            self._names.setdefault(block_index, set()).add(name)
        empty: set[str] = set()
        for row in table.rows:  # (the := and constraint rows have other operators)
            op = row.op
            if op is Op.COVARIANCE:
                lhs, rhs = row.lhs, row.rhs
                names = self._names.get(row.block, empty)
                if lhs != rhs and not (lhs in names and rhs in names):
                    self._add_missing(table, row, lhs, rhs)
                continue
            if op is not Op.MEASURED and op is not Op.REGRESSION:
                continue
            source, target = (row.lhs, row.rhs) if op is Op.MEASURED else (row.rhs, row.lhs)
            self._add_missing(table, row, source, target)
            self._add_edge((source, row.block), (target, row.block), row, table)
        for node, data in nodes.items():
            sources = self.predecessors.get(node, ())
            data["exogenous"] = not sources
            data["endogenous"] = bool(sources)
            data["indicator"] = any(self.edges[u, node]["kind"] == "loading" for u in sources)

    def _add_edge(self, u: Node, v: Node, row: ParamRow, table: ParameterTable) -> None:
        data = {"kind": _PATH_KINDS[row.op], **_row(table, row)}
        if (u, v) in self.edges:  # a second row for the same path: its attributes win
            self.edges[u, v].update(data)
            return
        self.edges[u, v] = data
        self.successors.setdefault(u, []).append(v)
        self.predecessors.setdefault(v, []).append(u)

    def _add_missing(self, table: ParameterTable, row: ParamRow, *names: str) -> None:
        """A row naming a variable its block does not list (cannot happen for tables built by
        :func:`~semlang.partable.build_partable`; kept so a hand-made table still gives a
        graph)."""
        for name in names:
            if (name, row.block) not in self.nodes:
                self._names.setdefault(row.block, set()).add(name)
                self.nodes[(name, row.block)] = {
                    "name": name,
                    "block": row.block,
                    "group": row.group,
                    "level": row.level,
                    "kind": "observed",
                    "latent": False,
                    "observed": True,
                    "fixed_x": False,
                    "line": _line(table, table.variable_spans.get(name)),
                }

    def strongly_connected(self) -> list[list[Node]]:
        """The strongly connected components (Tarjan's algorithm, without recursion), in the
        order in which they are completed: the nodes taken in order, each node's paths in
        theirs."""
        index: dict[Node, int] = {}
        low: dict[Node, int] = {}
        stack: list[Node] = []
        on_stack: set[Node] = set()
        components: list[list[Node]] = []
        for root in self.nodes:
            if root in index:
                continue
            work = [(root, iter(self.successors.get(root, ())))]
            index[root] = low[root] = len(index)
            stack.append(root)
            on_stack.add(root)
            while work:
                node, children = work[-1]
                child = next(children, None)
                if child is not None:
                    if child not in index:
                        index[child] = low[child] = len(index)
                        stack.append(child)
                        on_stack.add(child)
                        work.append((child, iter(self.successors.get(child, ()))))
                    elif child in on_stack:
                        low[node] = min(low[node], index[child])
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
        return components


def covariances(graph: nx.DiGraph) -> nx.Graph:
    """The covariances (``~~`` between two variables) of a path graph, as an undirected graph."""
    return graph.graph["covariances"]


def _row(table: ParameterTable, row: ParamRow) -> dict:
    return {
        "op": row.op.value,
        "row": row.id,
        "label": row.label,
        "free": row.free,
        "value": row.value,
        "fixed": row.free == 0 and not row.exo,
        "exo": row.exo,
        "line": _line(table, row.span),
    }


def _line(table: ParameterTable, span: Span | None) -> int | None:
    return table.source.location(span.start)[0] if span is not None else None


# ---- structural checks -------------------------------------------------------------------------


def check(table: ParameterTable, columns: Iterable[str] | None = None) -> list[str]:
    """Structural warnings about a model, one line each (``model.sem:3:5: ...``).

    Without data a name that only appears in ``~`` / ``~~`` statements is simply an observed
    variable, and a forgotten ``=~`` cannot be told from a covariate; so ``check`` warns only
    where the name looks like a mistake (it resembles a latent variable's name, or is a latent
    variable at another level). With ``columns`` (the data's column names) it is certain:
    an observed variable that is not a column raises
    :class:`~semlang.errors.UnknownVariableError` at the spot where the model names it
    (``'f' has no indicators and is not a column of the data``), and a latent variable named
    like a column raises :class:`~semlang.errors.ModelSpecificationError`.

    The warnings also cover feedback loops (a non-recursive model) and a latent variable with a
    single indicator whose residual variance is free (not identified).
    """
    graph = _Paths(table)
    if columns is not None:
        _check_columns(table, graph, [str(c) for c in columns])
    warnings: list[str] = []
    warnings += _look_alike_latents(table, graph)
    warnings += _feedback_loops(table, graph)
    warnings += _single_indicators(table, graph)
    return list(dict.fromkeys(warnings))


def _located(table: ParameterTable, span: Span | None, message: str, hint: str) -> str:
    where = table.source.name
    if span is not None:
        line, column = table.source.location(span.start)
        where += f":{line}:{column}"
    return f"{where}: {message}; {hint}"


def _check_columns(table: ParameterTable, graph: _Paths, columns: list[str]) -> None:
    present = set(columns)
    for (name, _), data in graph.nodes.items():
        span = table.variable_spans.get(name)
        if data["observed"] and name not in present:
            close = difflib.get_close_matches(name, columns, n=3)
            if not data["indicator"]:
                raise UnknownVariableError(
                    f"'{name}' has no indicators and is not a column of the data",
                    table.source,
                    span,
                    hint=f"if '{name}' is a latent variable, define it with "
                    f"'{name} =~ indicator1 + indicator2 + ...'"
                    + (f"; close column names: {', '.join(close)}" if close else ""),
                )
            shown = ", ".join(columns[:10]) + (", ..." if len(columns) > 10 else "")
            raise UnknownVariableError(
                f"variable '{name}' is not a column of the data",
                table.source,
                span,
                hint=("close column names: " + ", ".join(close))
                if close
                else f"the data's columns are {shown}",
            )
        if data["latent"] and name in present:
            raise ModelSpecificationError(
                f"latent variable '{name}' has the name of a column of the data",
                table.source,
                span,
                hint="rename the latent variable (or drop its '=~' to use the column)",
            )


def _look_alike_latents(table: ParameterTable, graph: _Paths) -> list[str]:
    """Observed non-indicators named like a latent variable (of this or another level)."""
    out = []
    latent_by_group: dict[int, dict[str, int]] = {}
    for (name, _), data in graph.nodes.items():
        if data["latent"]:
            latent_by_group.setdefault(data["group"], {}).setdefault(name, data["level"])
    for (name, _), data in graph.nodes.items():
        if data["latent"] or data["indicator"]:
            continue
        latent = latent_by_group.get(data["group"], {})
        span = table.variable_spans.get(name)
        if name in latent:
            out.append(
                _located(
                    table,
                    span,
                    f"'{name}' is a latent variable at level {latent[name]} but has no "
                    f"indicators at level {data['level']}, where it is taken as observed",
                    f"give it indicators at level {data['level']} too, or check the name",
                )
            )
            continue
        close = _resembling(name, list(latent))
        if close is not None:
            out.append(
                _located(
                    table,
                    span,
                    f"'{name}' has no indicators, so it is taken as an observed variable",
                    f"did you mean the latent variable '{close}'?",
                )
            )
    return out


def _resembling(name: str, latent: list[str]) -> str | None:
    """A latent variable's name that ``name`` looks like a typo of: the same but for case, or
    close (difflib) and not just another number of a numbered series (``f1`` / ``f10``)."""
    lowered = {n.lower(): n for n in latent}
    if name.lower() in lowered:
        return lowered[name.lower()]
    letters = re.sub(r"\d", "", name)
    for candidate in difflib.get_close_matches(name, latent, n=3, cutoff=0.8):
        if re.sub(r"\d", "", candidate) != letters:
            return candidate
    return None


def _feedback_loops(table: ParameterTable, graph: _Paths) -> list[str]:
    out = []
    for component in graph.strongly_connected():
        nodes = sorted(component, key=lambda n: (n[1], n[0]))
        if len(nodes) < 2:
            continue
        names = ", ".join(name for name, _ in nodes)
        inside = set(nodes)
        first = min(
            (data["row"] for (u, v), data in graph.edges.items() if u in inside and v in inside),
            default=None,
        )
        span = next((row.span for row in table.rows if row.id == first), None)
        out.append(
            _located(
                table,
                span,
                f"{names} form a feedback loop (a non-recursive model)",
                "such models need enough instruments to be identified; check the directions of "
                "the '~' statements",
            )
        )
    return out


def _single_indicators(table: ParameterTable, graph: _Paths) -> list[str]:
    variances = {
        (row.lhs, row.block): row
        for row in table.rows
        if row.op is Op.COVARIANCE and row.lhs == row.rhs
    }
    out = []
    for node, data in graph.nodes.items():
        if not data["latent"]:
            continue
        loadings = [
            v for v in graph.successors.get(node, ()) if graph.edges[node, v]["kind"] == "loading"
        ]
        if len(loadings) != 1:
            continue
        indicator = loadings[0]
        residual = variances.get(indicator)
        shared = sum(
            graph.edges[u, indicator]["kind"] == "loading"
            for u in graph.predecessors.get(indicator, ())
        )
        if residual is None or residual.free == 0 or shared != 1:
            continue
        out.append(
            _located(
                table,
                table.variable_spans.get(data["name"]),
                f"'{data['name']}' has a single indicator '{indicator[0]}' whose residual "
                "variance is free, so the model is not identified",
                f"fix the residual variance, e.g. '{indicator[0]} ~~ 0*{indicator[0]}'",
            )
        )
    return out


# ---- the diagram ------------------------------------------------------------------------------


def to_dot(table: ParameterTable) -> str:
    """The path diagram in Graphviz's DOT language (:mod:`semlang.diagram`): latent variables
    as ellipses, observed variables as boxes, loadings and regressions as arrows (dashed when
    fixed), variances as double-headed loops and covariances as double-headed arrows, each with
    its label and fixed value (``a``, ``1``, ``a = 0.5``); with several groups or levels each
    block is a cluster."""
    from semlang.diagram import from_table

    return from_table(table).to_dot()


def render_diagram(table: ParameterTable, path: str | Path) -> list[Path]:
    """Write the diagram to ``path``: ``.svg`` (by Graphviz's ``dot`` program when it is
    installed, else by semlang's own layout), ``.png`` or ``.pdf`` (these need Graphviz), or
    ``.dot`` (the DOT source). Nothing else is written; returns ``[path]``."""
    from semlang.diagram import from_table

    return [from_table(table).save(path)]
