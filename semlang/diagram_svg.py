"""Diagram -> SVG without Graphviz: a small layered layout drawn as semPaths draws a model.

Input: a :class:`~semlang.diagram.Diagram`. Output: SVG text.

Layout, per block (blocks are stacked top to bottom under their titles): a variable's column is
the length of the longest chain of paths leading to it (exogenous variables on the left; in a
feedback loop the loop's variables share a column), and within a column the variables are
ordered by the mean row of the variables pointing to them, so indicators sit beside their
factor. Paths are straight arrows between the shapes' borders, with the number in a white box
half-way; a variance is a double-headed loop above its variable (to its right when nothing
leaves it); a covariance a curved double-headed arrow (bulging to the left within a column).
Fixed parameters are dashed, the fixed moments of exogenous covariates grey.
"""

from __future__ import annotations

import html
import math

import networkx as nx

COLUMN = 190  # distance between columns
ROW = 76  # distance between rows (room for a loop above a variable)
MARGIN = 50
TITLE = 26
FONT = 'font-family="Helvetica, Arial, sans-serif"'


def _size(node) -> tuple[float, float]:
    """Half width and half height of a variable's shape."""
    width = 7.5 * len(node.name) + (26 if node.latent else 18)
    return max(width, 40 if node.latent else 34) / 2, 17 if node.latent else 15


def _columns(block, edges) -> dict:
    graph = nx.DiGraph()
    graph.add_nodes_from((n.name, n.block) for n in block.nodes)
    graph.add_edges_from((e.source, e.target) for e in edges if e.kind == "path")
    condensed = nx.condensation(graph)
    depth: dict[int, int] = {}
    for c in nx.topological_sort(condensed):
        depth[c] = max((depth[p] + 1 for p in condensed.predecessors(c)), default=0)
    mapping = condensed.graph["mapping"]
    return {key: depth[mapping[key]] for key in graph.nodes}


def _layout(block, edges) -> dict:
    """Position (x, y) of every variable of ``block``, relative to the block's corner."""
    column = _columns(block, edges)
    parents: dict = {}
    for e in edges:
        if e.kind == "path":
            parents.setdefault(e.target, []).append(e.source)
    order = {(n.name, n.block): k for k, n in enumerate(block.nodes)}
    rows: dict = {}
    by_column: dict[int, list] = {}
    for key in sorted(column, key=lambda k: (column[k], order[k])):
        by_column.setdefault(column[key], []).append(key)
    for c in sorted(by_column):
        keys = by_column[c]

        def rank(key, keys=keys):
            above = [rows[p] for p in parents.get(key, []) if p in rows]
            return (sum(above) / len(above) if above else keys.index(key), order[key])

        for k, key in enumerate(sorted(keys, key=rank)):
            rows[key] = k
    height = max((len(v) for v in by_column.values()), default=1)
    out = {}
    for c, keys in by_column.items():
        offset = (height - len(keys)) / 2
        for key in keys:
            out[key] = (MARGIN + 70 + c * COLUMN, MARGIN + (rows[key] + offset) * ROW)
    return out


def _border(center, half, latent: bool, toward) -> tuple[float, float]:
    """Where the line from ``center`` to ``toward`` leaves the shape."""
    (x, y), (w, h) = center, half
    dx, dy = toward[0] - x, toward[1] - y
    if dx == 0 and dy == 0:
        return x, y
    if latent:
        t = 1 / math.sqrt((dx / w) ** 2 + (dy / h) ** 2)
    else:
        t = min(w / abs(dx) if dx else math.inf, h / abs(dy) if dy else math.inf)
    return x + t * dx, y + t * dy


def _label(x: float, y: float, text: str) -> list[str]:
    if not text:
        return []
    width = 6.2 * len(text) + 6
    return [
        f'<rect x="{x - width / 2:.1f}" y="{y - 8:.1f}" width="{width:.1f}" height="15" '
        'fill="white" opacity="0.9"/>',
        f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-size="11" {FONT}>'
        f"{html.escape(text)}</text>",
    ]


def _style(edge) -> str:
    color = "#888888" if edge.exo else "#000000"
    dash = ' stroke-dasharray="5,3"' if edge.fixed else ""
    return f'fill="none" stroke="{color}"{dash}'


def _path(edge, pos, half, latent) -> list[str]:
    a, b = pos[edge.source], pos[edge.target]
    start = _border(a, half[edge.source], latent[edge.source], b)
    end = _border(b, half[edge.target], latent[edge.target], a)
    return [
        f'<line x1="{start[0]:.1f}" y1="{start[1]:.1f}" x2="{end[0]:.1f}" y2="{end[1]:.1f}" '
        f'{_style(edge)} marker-end="url(#arrow)"/>',
        *_label((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, edge.label),
    ]


def _covariance(edge, pos, half, latent) -> list[str]:
    a, b = pos[edge.source], pos[edge.target]
    if abs(a[0] - b[0]) < 1:  # one column: bulge to the left
        bulge = min(0.35 * math.dist(a, b) + 30, 110)
        control = (a[0] - bulge, (a[1] + b[1]) / 2)
    else:  # across columns: a gentle bend
        normal = ((b[1] - a[1]) * 0.2, (a[0] - b[0]) * 0.2)
        control = ((a[0] + b[0]) / 2 + normal[0], (a[1] + b[1]) / 2 + normal[1])
    start = _border(a, half[edge.source], latent[edge.source], control)
    end = _border(b, half[edge.target], latent[edge.target], control)
    middle_x, middle_y = (
        0.25 * s + 0.5 * c + 0.25 * e for s, c, e in zip(start, control, end, strict=True)
    )
    return [
        f'<path d="M{start[0]:.1f},{start[1]:.1f} Q{control[0]:.1f},{control[1]:.1f} '
        f'{end[0]:.1f},{end[1]:.1f}" {_style(edge)} marker-start="url(#arrow-start)" '
        'marker-end="url(#arrow)"/>',
        *_label(middle_x, middle_y, edge.label),
    ]


def _variance(edge, pos, half, above: bool) -> list[str]:
    (x, y), (w, h) = pos[edge.source], half[edge.source]
    if above:
        d = f"M{x - 10:.1f},{y - h:.1f} C{x - 24:.1f},{y - h - 30:.1f} {x + 24:.1f},"
        d += f"{y - h - 30:.1f} {x + 10:.1f},{y - h:.1f}"
        spot = (x, y - h - 27)
    else:
        d = f"M{x + w:.1f},{y - 7:.1f} C{x + w + 30:.1f},{y - 22:.1f} {x + w + 30:.1f},"
        d += f"{y + 22:.1f} {x + w:.1f},{y + 7:.1f}"
        spot = (x + w + 25 + 3.1 * len(edge.label), y)
    return [
        f'<path d="{d}" {_style(edge)} marker-start="url(#arrow-start)" marker-end="url(#arrow)"/>',
        *_label(*spot, edge.label),
    ]


def _shape(node, center, half) -> str:
    (x, y), (w, h) = center, half
    if node.latent:
        shape = f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{w:.1f}" ry="{h:.1f}" '
    else:
        shape = f'<rect x="{x - w:.1f}" y="{y - h:.1f}" width="{2 * w:.1f}" height="{2 * h:.1f}" '
    text = (
        f'<text x="{x:.1f}" y="{y + 4.5:.1f}" text-anchor="middle" font-size="13" {FONT}>'
        f"{html.escape(node.name)}</text>"
    )
    return shape + 'fill="white" stroke="black"/>' + text


_DEFS = (
    "<defs>"
    '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker>'
    '<marker id="arrow-start" viewBox="0 0 10 10" refX="0" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto"><path d="M10,0 L0,5 L10,10 z"/></marker>'
    "</defs>"
)


def _block(block, edges, top: float) -> tuple[list[str], float, float]:
    """The SVG elements of one block placed at ``top``; its width and height."""
    mine = [e for e in edges if e.source[1] == block.index]
    shift = top + (TITLE if block.title else 0)
    pos = {k: (x, y + shift) for k, (x, y) in _layout(block, mine).items()}
    half = {(n.name, n.block): _size(n) for n in block.nodes}
    latent = {(n.name, n.block): n.latent for n in block.nodes}
    leaving = {e.source for e in mine if e.kind == "path"}
    out = []
    if block.title:
        out.append(
            f'<text x="{MARGIN / 2:.1f}" y="{top + 18:.1f}" font-size="13" font-weight="bold" '
            f"{FONT}>{html.escape(block.title)}</text>"
        )
    for edge in mine:
        if edge.kind == "path":
            out += _path(edge, pos, half, latent)
        elif edge.kind == "covariance":
            out += _covariance(edge, pos, half, latent)
        else:
            out += _variance(edge, pos, half, above=edge.source in leaving)
    for node in block.nodes:
        key = (node.name, node.block)
        out.append(_shape(node, pos[key], half[key]))
    right = max((pos[k][0] + half[k][0] for k in pos), default=0) + 90
    bottom = max((pos[k][1] + half[k][1] for k in pos), default=top) + MARGIN
    return out, right, bottom - top


def to_svg(diagram) -> str:
    """The diagram as an SVG document."""
    body: list[str] = []
    top, width = 0.0, 0.0
    for block in diagram.blocks:
        elements, right, height = _block(block, diagram.edges, top)
        body += elements
        top += height
        width = max(width, right)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{top:.0f}" '
        f'viewBox="0 0 {width:.0f} {top:.0f}">\n<title>{html.escape(diagram.name)}</title>\n'
        f"{_DEFS}\n" + "\n".join(body) + "\n</svg>\n"
    )
