"""Diagram -> Graphviz DOT text.

Input: a :class:`~semlang.diagram.Diagram`. Output: DOT source, laid out left to right: one node
per variable (latent: ellipse, observed: box), an edge per path (dashed when fixed), a loop
``x -> x`` with arrowheads at both ends per variance, and a curved double-headed edge that does
not constrain the layout per covariance (grey for the fixed moments of exogenous covariates).
With several blocks (groups, levels) each is a cluster titled by its group and level, and node
ids are ``name@block``.
"""

from __future__ import annotations


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _id(key: tuple[str, int], several: bool) -> str:
    return quote(f"{key[0]}@{key[1]}" if several else key[0])


def _attributes(items: list[str]) -> str:
    return f" [{', '.join(items)}]" if items else ""


def _edge(edge, several: bool) -> str:
    items: list[str] = []
    if edge.kind != "path":
        items.append("dir=both")
    if edge.kind == "covariance":
        items.append("constraint=false")
    if edge.fixed:
        items.append("style=dashed")
    if edge.exo:
        items.append("color=grey50")
    if edge.label:
        items.append(f"label={quote(edge.label)}")
    return f"{_id(edge.source, several)} -> {_id(edge.target, several)}{_attributes(items)};"


def to_dot(diagram) -> str:
    several = len(diagram.blocks) > 1
    lines = [
        f"digraph {quote(diagram.name)} {{",
        '  graph [rankdir=LR, fontname="Helvetica", nodesep=0.3, ranksep=0.8];',
        '  node [fontname="Helvetica", fontsize=12];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for block in diagram.blocks:
        indent = "    " if several else "  "
        if several:
            lines.append(f"  subgraph cluster_{block.index} {{")
            lines.append(f"    label={quote(block.title)};")
        for node in block.nodes:
            shape = "ellipse" if node.latent else "box"
            key = (node.name, node.block)
            lines.append(f"{indent}{_id(key, several)} [shape={shape}, label={quote(node.name)}];")
        lines += [indent + _edge(e, several) for e in diagram.edges if e.source[1] == block.index]
        if several:
            lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"
