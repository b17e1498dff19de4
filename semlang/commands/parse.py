"""``semlang parse MODEL --stage ast|partable|graph``: show one stage of the pipeline.

Input: a model file and the model options. Output: the syntax tree (every node with the
``line:column`` where it starts), the parameter table, or the path graph (its nodes, its paths —
loadings and regressions — and its covariances, with their attributes).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from enum import Enum

from semlang.commands import EXIT_OK, Command
from semlang.commands._common import (
    add_kind_flags,
    add_model_argument,
    add_model_options,
    parameter_table,
    read_model,
    records_text,
)
from semlang.errors import Source, Span

STAGES = ("ast", "partable", "graph")


def configure(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument(
        "--stage", choices=STAGES, default="partable", help="what to show (default: %(default)s)"
    )
    add_kind_flags(parser)
    add_model_options(parser)
    parser.add_argument(
        "--ngroups", type=int, default=1, metavar="K", help="number of groups (partable, graph)"
    )


# ---- the syntax tree --------------------------------------------------------------------------


def _scalar(value) -> str:
    if isinstance(value, Enum):
        return repr(value.value)
    return repr(value)


def _is_node(value) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, (Span, Source))


def _node_lines(node, source: Source, indent: int) -> list[str]:
    """One node: ``Type(field=value, ...) @line:col``, then its child nodes indented."""
    scalars, children = [], []
    where = ""
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if isinstance(value, Span):
            if field.name == "span":
                line, col = source.location(value.start)
                where = f" @{line}:{col}"
        elif isinstance(value, Source):
            continue
        elif _is_node(value) or (
            isinstance(value, tuple) and value and all(_is_node(v) for v in value)
        ):
            children.append((field.name, value))
        else:
            scalars.append(f"{field.name}={_scalar(value)}")
    pad = "  " * indent
    lines = [f"{pad}{type(node).__name__}({', '.join(scalars)}){where}"]
    for name, value in children:
        items = value if isinstance(value, tuple) else (value,)
        lines.append(f"{pad}  {name}:")
        for item in items:
            lines += _node_lines(item, source, indent + 2)
    return lines


def ast_text(text: str, name: str) -> str:
    """The syntax tree of a model as indented text."""
    from semlang.syntax.parser import parse

    model = parse(text, name)
    lines = [f"Model {name}"]
    for statement in model.statements:
        lines += _node_lines(statement, model.source, 1)
    return "\n".join(lines) + "\n"


# ---- the graph --------------------------------------------------------------------------------


def _attributes(data: dict, skip: tuple[str, ...] = ()) -> str:
    return ", ".join(f"{key}={_scalar(value)}" for key, value in data.items() if key not in skip)


def graph_text(table) -> str:
    """The nodes, paths and covariances of :func:`semlang.graph.path_graph` as text (a node is
    ``name``, or ``name[block]`` when the model has several groups or levels)."""
    from semlang import graph

    g = graph.path_graph(table)
    several = len(table.blocks) > 1

    def name(node) -> str:
        data = g.nodes[node]
        return f"{data['name']}[{data['block']}]" if several else str(data["name"])

    skip = ("name", "block")
    lines = [f"Nodes ({g.number_of_nodes()}):"]
    lines += [f"  {name(n)}  {_attributes(d, skip)}".rstrip() for n, d in g.nodes(data=True)]
    lines += ["", f"Paths ({g.number_of_edges()}):"]
    lines += [
        f"  {name(u)} -> {name(v)}  {_attributes(d)}".rstrip() for u, v, d in g.edges(data=True)
    ]
    covariances = graph.covariances(g)
    lines += ["", f"Covariances ({covariances.number_of_edges()}):"]
    lines += [
        f"  {name(u)} ~~ {name(v)}  {_attributes(d)}".rstrip()
        for u, v, d in covariances.edges(data=True)
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    if args.stage == "ast":
        sys.stdout.write(ast_text(read_model(args.model), args.model))
        return EXIT_OK
    table = parameter_table(args, ngroups=max(args.ngroups, 1))
    if args.stage == "partable":
        sys.stdout.write(records_text(table.to_records()))
    else:
        sys.stdout.write(graph_text(table))
    return EXIT_OK


COMMANDS = (
    Command(
        path=("parse",),
        help="show the syntax tree, the parameter table or the path graph of a model",
        configure=configure,
        run=run,
        order=3,
    ),
)
