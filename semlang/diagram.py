"""Parameter table or fit -> a path diagram: Graphviz DOT, SVG, and a notebook's picture.

Input: a :class:`~semlang.partable.ParameterTable` (:func:`from_table`: the model, its labels and
fixed values) or a :class:`~semlang.results.fit.Fit` (:func:`from_fit`: with ``what="est"`` the
estimates, ``"std"`` the standardized ones (lavaan's std.all), ``"none"`` as the model). Output:
a :class:`Diagram` — :meth:`Diagram.to_dot`, :meth:`Diagram.to_svg`, :meth:`Diagram.save` and
``_repr_svg_`` for notebooks.

As lavaan's ``semPaths()`` draws them: latent variables are ellipses, observed variables boxes;
loadings and regressions are arrows; a variance (a residual variance for an endogenous variable)
is a double-headed loop on its variable, a covariance a curved double-headed arrow; fixed
parameters are dashed, the fixed moments of exogenous covariates (``fixed_x``) grey. With
several groups or levels each block is drawn apart, under its title. Intercepts are not drawn.

SVG comes from Graphviz's ``dot`` program when it is installed, and from a small layered layout
of semlang's own (:mod:`semlang.diagram_svg`) when it is not; PNG and PDF need Graphviz.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from semlang.errors import OptionError, SemlangError
from semlang.syntax.ast import Op

WHAT = ("est", "std", "none")
FORMATS = ("svg", "png", "pdf", "dot")
DIGITS = 2  # semPaths' default for the numbers on the arrows


@dataclass(frozen=True)
class Node:
    name: str
    block: int
    latent: bool


@dataclass(frozen=True)
class Edge:
    """An arrow: ``kind`` "path" (source -> target), "covariance" or "variance" (a loop)."""

    source: tuple[str, int]
    target: tuple[str, int]
    kind: str
    label: str = ""
    fixed: bool = False
    exo: bool = False


@dataclass(frozen=True)
class Block:
    index: int
    title: str
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Diagram:
    """A path diagram: its blocks (variables) and its arrows."""

    name: str
    blocks: tuple[Block, ...]
    edges: tuple[Edge, ...]

    def to_dot(self) -> str:
        """The diagram in Graphviz's DOT language."""
        from semlang.diagram_dot import to_dot

        return to_dot(self)

    def to_svg(self, engine: str | None = None) -> str:
        """The diagram as SVG text: by Graphviz (``engine="graphviz"``), by semlang's own layout
        (``"semlang"``), or (None) by Graphviz when its ``dot`` program is installed."""
        if engine not in (None, "graphviz", "semlang"):
            raise OptionError(
                f"unknown diagram engine {engine!r}", hint="engine='graphviz' or 'semlang'"
            )
        if engine == "graphviz" or (engine is None and shutil.which("dot")):
            return _graphviz(self.to_dot(), "svg").decode("utf-8")
        from semlang.diagram_svg import to_svg

        return to_svg(self)

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def save(self, path: str | Path) -> Path:
        """Write the diagram to ``path``: .svg, .png, .pdf (these two need Graphviz) or .dot."""
        target = Path(path)
        fmt = check_format(target)
        if fmt == "dot":
            target.write_text(self.to_dot(), encoding="utf-8")
        elif fmt == "svg":
            target.write_text(self.to_svg(), encoding="utf-8")
        else:
            if shutil.which("dot") is None:
                raise SemlangError(
                    f"cannot draw {str(target)!r}: .{fmt} pictures need Graphviz's 'dot' "
                    "program, which is not installed",
                    hint=f"write {str(target.with_suffix('.svg'))!r} (drawn by semlang) or "
                    f"{str(target.with_suffix('.dot'))!r}, or install Graphviz",
                )
            target.write_bytes(_graphviz(self.to_dot(), fmt))
        return target

    def __repr__(self) -> str:
        nodes = sum(len(b.nodes) for b in self.blocks)
        return (
            f"<semlang Diagram of {self.name}: {nodes} variables, {len(self.edges)} arrows; "
            ".to_svg(), .to_dot(), .save(path)>"
        )


def check_format(path: Path) -> str:
    """The picture format named by ``path``'s suffix (one of :data:`FORMATS`)."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise OptionError(
            f"unknown diagram format '.{fmt}'" if fmt else f"{str(path)!r} has no suffix",
            hint="write the diagram as .svg, .png, .pdf or .dot",
        )
    return fmt


def _graphviz(dot: str, fmt: str) -> bytes:
    program = shutil.which("dot")
    if program is None:
        raise SemlangError(
            "Graphviz's 'dot' program is not installed", hint="use engine='semlang' for SVG"
        )
    result = subprocess.run(
        [program, f"-T{fmt}"], input=dot.encode("utf-8"), capture_output=True, check=False
    )
    if result.returncode != 0:
        raise SemlangError(
            f"Graphviz could not draw the diagram: {result.stderr.decode(errors='replace')}",
            hint="write the DOT source (.dot) instead",
        )
    return result.stdout


# ---- building a diagram -----------------------------------------------------------------------


def _title(table, block) -> str:
    parts = []
    if table.ngroups > 1:
        label = table.group_labels[block.group - 1]
        parts.append(f"group {block.group}" + (f": {label}" if label != str(block.group) else ""))
    if table.nlevels > 1:
        parts.append(f"level {block.level} ({'within' if block.level == 1 else 'between'})")
    return ", ".join(parts)


def _shown_label(label: str) -> str:
    """User labels are shown; the internal ``.pN.`` labels of group equalities are not."""
    return "" if not label or (label.startswith(".p") and label.endswith(".")) else label


def _model_text(row) -> str:
    """The model's own text of a parameter: its label and fixed value (``a``, ``1``, ``a = 1``)."""
    label = _shown_label(row.label)
    value = f"{row.value:g}" if not row.is_free and not row.exo else ""
    if label and value:
        return f"{label} = {value}"
    return label or value


def _number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    return f"{value:.{DIGITS}f}"


def build(table, numbers: dict | None = None) -> Diagram:
    """The diagram of ``table``; ``numbers`` maps a row's id to the number shown on its arrow
    (None: the model's labels and fixed values)."""
    blocks = tuple(
        Block(
            block.index,
            _title(table, block),
            tuple(Node(n, block.index, n in block.latent) for n in block.variables),
        )
        for block in table.blocks
    )
    edges = []
    for row in table.parameters:
        text = _model_text(row) if numbers is None else _number(numbers.get(row.id))
        fixed, key = not row.is_free and not row.exo, row.block
        if row.op in (Op.MEASURED, Op.REGRESSION):
            source, target = (row.lhs, row.rhs) if row.op is Op.MEASURED else (row.rhs, row.lhs)
            edges.append(Edge((source, key), (target, key), "path", text, fixed))
        elif row.op is Op.COVARIANCE:
            kind = "variance" if row.lhs == row.rhs else "covariance"
            edges.append(Edge((row.lhs, key), (row.rhs, key), kind, text, fixed, row.exo))
    return Diagram(table.source.name, blocks, tuple(edges))


def from_table(table) -> Diagram:
    """The diagram of a model: its labels and fixed values on the arrows."""
    return build(table)


def from_fit(fit, what: str = "est") -> Diagram:
    """The diagram of a fit with its estimates (``"est"``), standardized estimates
    (``"std"``: std.all) or the model's labels and fixed values (``"none"``)."""
    if what not in WHAT:
        raise OptionError(f"unknown what={what!r}", hint="what='est', 'std' or 'none'")
    if what == "none":
        return build(fit.table)
    frame = fit.estimates()
    column = "est" if what == "est" else "std_all"
    numbers = {row.id: float(v) for row, v in zip(fit.table.rows, frame[column], strict=True)}
    return build(fit.table, numbers)
