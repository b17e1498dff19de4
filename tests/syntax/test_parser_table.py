"""Table-driven parser tests: small models -> their parameter rows (as lavaan makes them) and
their syntax tree.

``CASES``: each model's rows must be exactly those of lavaan 0.6.14's ``parTable`` for the same
model, data-free options and number of groups (``ceq.simple = TRUE``, lavaan's form in which
parameters sharing a label share one free index, as semlang's table does). Two differences are
written into the expected rows: the labels lavaan makes up for ``equal("f=~x2")`` (semlang
links the rows without a label), and for the ``\\r\\n`` model the rows are those lavaan gives for
the same model with ``\\n`` line endings (lavaan 0.6.14 rejects ``\\r``). Row format:
``lhs op rhs[@block] (free k | fixed v | exo) [start s] [label l] [lower a] [upper b]``.

``AST_CASES``: the statements the parser makes of a model, one line each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from semlang.options import make_options
from semlang.partable import ParameterTable, build_partable
from semlang.syntax import ast
from semlang.syntax.parser import parse


@dataclass(frozen=True)
class Case:
    name: str
    model: str
    kind: str = "sem"
    ngroups: int = 1
    options: dict = field(default_factory=dict)
    rows: str = ""


CASES = [
    Case(
        "intercept",
        "y ~ 1",
        rows="""
        y~1 free 1
        y~~y free 2
        """,
    ),
    Case(
        "intercept-fixed-zero",
        "y ~ 0*1 + x",
        rows="""
        y~1 fixed 0
        y~x free 1
        y~~y free 2
        x~~x exo
        x~1 exo
        """,
    ),
    Case(
        "intercept-label",
        "y ~ m*1 + x",
        rows="""
        y~1 free 1 label m
        y~x free 2
        y~~y free 3
        x~~x exo
        x~1 exo
        """,
    ),
    Case(
        "intercept-zero-short",
        "y ~ 0 + x",
        rows="""
        y~1 fixed 0
        y~x free 1
        y~~y free 2
        x~~x exo
        x~1 exo
        """,
    ),
    Case(
        "intercept-and-slope",
        "y ~ 1 + x",
        rows="""
        y~1 free 1
        y~x free 2
        y~~y free 3
        x~~x exo
        x~1 exo
        """,
    ),
    Case(
        "one-factor",
        "f =~ x1 + x2 + x3",
        kind="cfa",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1
        f=~x3 free 2
        x1~~x1 free 3
        x2~~x2 free 4
        x3~~x3 free 5
        f~~f free 6
        """,
    ),
    Case(
        "free-first-loading",
        "f =~ NA*x1 + x2 + x3\nf ~~ 1*f",
        kind="cfa",
        rows="""
        f=~x1 free 1
        f=~x2 free 2
        f=~x3 free 3
        f~~f fixed 1
        x1~~x1 free 4
        x2~~x2 free 5
        x3~~x3 free 6
        """,
    ),
    Case(
        "fixed-numbers",
        "f =~ x1 + -0.5*x2 + 1.5e-1*x3 + 2E1*x4 + .25*x5",
        kind="cfa",
        rows="""
        f=~x1 fixed 1
        f=~x2 fixed -0.5
        f=~x3 fixed 0.15
        f=~x4 fixed 20
        f=~x5 fixed 0.25
        x1~~x1 free 1
        x2~~x2 free 2
        x3~~x3 free 3
        x4~~x4 free 4
        x5~~x5 free 5
        f~~f free 6
        """,
    ),
    Case(
        "shared-label",
        "f =~ x1 + a*x2 + a*x3",
        kind="cfa",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1 label a
        f=~x3 free 1 label a
        x1~~x1 free 2
        x2~~x2 free 3
        x3~~x3 free 4
        f~~f free 5
        """,
    ),
    Case(
        "label-function",
        'f =~ x1 + label("b")*x2 + x3',
        kind="cfa",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1 label b
        f=~x3 free 2
        x1~~x1 free 3
        x2~~x2 free 4
        x3~~x3 free 5
        f~~f free 6
        """,
    ),
    Case(
        "start-function",
        "f =~ x1 + start(0.5)*x2 + x3",
        kind="cfa",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1 start 0.5
        f=~x3 free 2
        x1~~x1 free 3
        x2~~x2 free 4
        x3~~x3 free 5
        f~~f free 6
        """,
    ),
    Case(
        "start-question-mark",
        "y ~ 0.5?x",
        rows="""
        y~x free 1 start 0.5
        y~~y free 2
        x~~x exo
        """,
    ),
    Case(
        "equal-function",
        'f =~ x1 + x2 + equal("f=~x2")*x3',
        kind="cfa",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1
        f=~x3 free 1
        x1~~x1 free 2
        x2~~x2 free 3
        x3~~x3 free 4
        f~~f free 5
        """,
    ),
    Case(
        "repeated-term",
        "f =~ x1 + 0.5*x2 + a*x2 + x3",
        kind="cfa",
        rows="""
        f=~x1 fixed 1
        f=~x2 fixed 0.5 label a
        f=~x3 free 1
        x1~~x1 free 2
        x2~~x2 free 3
        x3~~x3 free 4
        f~~f free 5
        """,
    ),
    Case(
        "modifier-arithmetic",
        "y ~ 1/4*x1 + sqrt(4)*x2 + 2^-1*x3 + (-1)*x4",
        rows="""
        y~x1 fixed 0.25
        y~x2 fixed 2
        y~x3 fixed 0.5
        y~x4 fixed -1
        y~~y free 1
        x1~~x1 exo
        x1~~x2 exo
        x1~~x3 exo
        x1~~x4 exo
        x2~~x2 exo
        x2~~x3 exo
        x2~~x4 exo
        x3~~x3 exo
        x3~~x4 exo
        x4~~x4 exo
        """,
    ),
    Case(
        "several-lhs",
        "y1 + y2 ~ x1 + x2",
        rows="""
        y1~x1 free 1
        y1~x2 free 2
        y2~x1 free 3
        y2~x2 free 4
        y1~~y1 free 5
        y2~~y2 free 6
        y1~~y2 free 7
        x1~~x1 exo
        x1~~x2 exo
        x2~~x2 exo
        """,
    ),
    Case(
        "continuation-lines",
        "f =~ x1 +\n  x2 +\n  x3\ny ~ f",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1
        f=~x3 free 2
        y~f free 3
        x1~~x1 free 4
        x2~~x2 free 5
        x3~~x3 free 6
        y~~y free 7
        f~~f free 8
        """,
    ),
    Case(
        "operator-on-next-line",
        "f =~ x1 + x2\n  + x3",
        kind="cfa",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1
        f=~x3 free 2
        x1~~x1 free 3
        x2~~x2 free 4
        x3~~x3 free 5
        f~~f free 6
        """,
    ),
    Case(
        "separators-comments",
        "f =~ x1 + x2 + x3; y ~ f # comment\n! another comment\n\n\n",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1
        f=~x3 free 2
        y~f free 3
        x1~~x1 free 4
        x2~~x2 free 5
        x3~~x3 free 6
        y~~y free 7
        f~~f free 8
        """,
    ),
    Case(
        "windows-line-endings",
        "f =~ x1 + x2 + x3\r\ny ~ f\r\n",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1
        f=~x3 free 2
        y~f free 3
        x1~~x1 free 4
        x2~~x2 free 5
        x3~~x3 free 6
        y~~y free 7
        f~~f free 8
        """,
    ),
    Case(
        "defined",
        "y ~ a*x1 + b*x2\nab := a*b\nd := exp(a) - sqrt(abs(b))/2^2",
        rows="""
        y~x1 free 1 label a
        y~x2 free 2 label b
        y~~y free 3
        x1~~x1 exo
        x1~~x2 exo
        x2~~x2 exo
        ab:=a*b
        d:=exp(a)-sqrt(abs(b))/2^2
        """,
    ),
    Case(
        "constraints",
        "y ~ a*x1 + b*x2 + c*x3\na == b\nc < 0.5\nb > 0",
        rows="""
        y~x1 free 1 label a
        y~x2 free 2 label b
        y~x3 free 3 label c
        y~~y free 4
        x1~~x1 exo
        x1~~x2 exo
        x1~~x3 exo
        x2~~x2 exo
        x2~~x3 exo
        x3~~x3 exo
        a==b
        c<0.5
        b>0
        """,
    ),
    Case(
        "bounds",
        "x ~~ lower(0)*x + upper(10)*x\ny ~ x",
        rows="""
        x~~x free 1 lower 0 upper 10
        y~x free 2
        y~~y free 3
        """,
    ),
    Case(
        "covariances",
        "y1 ~ x\ny2 ~ x\ny1 ~~ y2",
        rows="""
        y1~x free 1
        y2~x free 2
        y1~~y2 free 3
        y1~~y1 free 4
        y2~~y2 free 5
        x~~x exo
        """,
    ),
    Case(
        "orthogonal-by-hand",
        "f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6\nf1 ~~ 0*f2",
        kind="cfa",
        rows="""
        f1=~x1 fixed 1
        f1=~x2 free 1
        f1=~x3 free 2
        f2=~x4 fixed 1
        f2=~x5 free 3
        f2=~x6 free 4
        f1~~f2 fixed 0
        x1~~x1 free 5
        x2~~x2 free 6
        x3~~x3 free 7
        x4~~x4 free 8
        x5~~x5 free 9
        x6~~x6 free 10
        f1~~f1 free 11
        f2~~f2 free 12
        """,
    ),
    Case(
        "random-covariate",
        "y ~ x\nx ~~ x",
        rows="""
        y~x free 1
        x~~x free 2
        y~~y free 3
        """,
    ),
    Case(
        "higher-order",
        "f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6\ng =~ f1 + f2",
        kind="cfa",
        rows="""
        f1=~x1 fixed 1
        f1=~x2 free 1
        f1=~x3 free 2
        f2=~x4 fixed 1
        f2=~x5 free 3
        f2=~x6 free 4
        g=~f1 fixed 1
        g=~f2 free 5
        x1~~x1 free 6
        x2~~x2 free 7
        x3~~x3 free 8
        x4~~x4 free 9
        x5~~x5 free 10
        x6~~x6 free 11
        f1~~f1 free 12
        f2~~f2 free 13
        g~~g free 14
        """,
    ),
    Case(
        "residual-covariance-fixed",
        "f =~ x1 + x2 + x3\nx1 ~~ x1 + 0*x2",
        kind="cfa",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1
        f=~x3 free 2
        x1~~x1 free 3
        x1~~x2 fixed 0
        x2~~x2 free 4
        x3~~x3 free 5
        f~~f free 6
        """,
    ),
    Case(
        "latent-intercept",
        "f =~ x1 + x2 + x3\nf ~ 0*1",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1
        f=~x3 free 2
        f~1 fixed 0
        x1~~x1 free 3
        x2~~x2 free 4
        x3~~x3 free 5
        f~~f free 6
        x1~1 free 7
        x2~1 free 8
        x3~1 free 9
        """,
    ),
    Case(
        "std-lv",
        "f =~ x1 + x2 + x3",
        kind="cfa",
        options={"std_lv": True},
        rows="""
        f=~x1 free 1
        f=~x2 free 2
        f=~x3 free 3
        x1~~x1 free 4
        x2~~x2 free 5
        x3~~x3 free 6
        f~~f fixed 1
        """,
    ),
    Case(
        "vector-modifiers",
        "f =~ x1 + c(a, b)*x2 + c(1, NA)*x3",
        kind="cfa",
        ngroups=2,
        rows="""
        f=~x1@1 fixed 1
        f=~x2@1 free 1 label a
        f=~x3@1 fixed 1
        x1~~x1@1 free 2
        x2~~x2@1 free 3
        x3~~x3@1 free 4
        f~~f@1 free 5
        x1~1@1 free 6
        x2~1@1 free 7
        x3~1@1 free 8
        f~1@1 fixed 0
        f=~x1@2 fixed 1
        f=~x2@2 free 9 label b
        f=~x3@2 free 10
        x1~~x1@2 free 11
        x2~~x2@2 free 12
        x3~~x3@2 free 13
        f~~f@2 free 14
        x1~1@2 free 15
        x2~1@2 free 16
        x3~1@2 free 17
        f~1@2 fixed 0
        """,
    ),
    Case(
        "vector-same-label",
        "f =~ x1 + c(l1, l1)*x2 + x3",
        kind="cfa",
        ngroups=2,
        rows="""
        f=~x1@1 fixed 1
        f=~x2@1 free 1 label l1
        f=~x3@1 free 2
        x1~~x1@1 free 3
        x2~~x2@1 free 4
        x3~~x3@1 free 5
        f~~f@1 free 6
        x1~1@1 free 7
        x2~1@1 free 8
        x3~1@1 free 9
        f~1@1 fixed 0
        f=~x1@2 fixed 1
        f=~x2@2 free 1 label l1
        f=~x3@2 free 10
        x1~~x1@2 free 11
        x2~~x2@2 free 12
        x3~~x3@2 free 13
        f~~f@2 free 14
        x1~1@2 free 15
        x2~1@2 free 16
        x3~1@2 free 17
        f~1@2 fixed 0
        """,
    ),
    Case(
        "vector-intercepts",
        "f =~ x1 + x2 + x3\nf ~ c(0, NA)*1",
        kind="cfa",
        ngroups=2,
        rows="""
        f=~x1@1 fixed 1
        f=~x2@1 free 1
        f=~x3@1 free 2
        f~1@1 fixed 0
        x1~~x1@1 free 3
        x2~~x2@1 free 4
        x3~~x3@1 free 5
        f~~f@1 free 6
        x1~1@1 free 7
        x2~1@1 free 8
        x3~1@1 free 9
        f=~x1@2 fixed 1
        f=~x2@2 free 10
        f=~x3@2 free 11
        f~1@2 free 12
        x1~~x1@2 free 13
        x2~~x2@2 free 14
        x3~~x3@2 free 15
        f~~f@2 free 16
        x1~1@2 free 17
        x2~1@2 free 18
        x3~1@2 free 19
        """,
    ),
    Case(
        "growth",
        "i =~ 1*t1 + 1*t2 + 1*t3\ns =~ 0*t1 + 1*t2 + 2*t3",
        kind="growth",
        rows="""
        i=~t1 fixed 1
        i=~t2 fixed 1
        i=~t3 fixed 1
        s=~t1 fixed 0
        s=~t2 fixed 1
        s=~t3 fixed 2
        t1~~t1 free 1
        t2~~t2 free 2
        t3~~t3 free 3
        i~~i free 4
        s~~s free 5
        i~~s free 6
        t1~1 fixed 0
        t2~1 fixed 0
        t3~1 fixed 0
        i~1 free 7
        s~1 free 8
        """,
    ),
    Case(
        "mimic",
        "f =~ x1 + x2 + x3\nf ~ z1 + z2",
        rows="""
        f=~x1 fixed 1
        f=~x2 free 1
        f=~x3 free 2
        f~z1 free 3
        f~z2 free 4
        x1~~x1 free 5
        x2~~x2 free 6
        x3~~x3 free 7
        f~~f free 8
        z1~~z1 exo
        z1~~z2 exo
        z2~~z2 exo
        """,
    ),
    Case(
        "two-level",
        "level: 1\n  fw =~ y1 + y2 + y3\nlevel: 2\n  fb =~ y1 + y2 + y3\n  fb ~ w",
        rows="""
        fw=~y1@1 fixed 1
        fw=~y2@1 free 1
        fw=~y3@1 free 2
        y1~~y1@1 free 3
        y2~~y2@1 free 4
        y3~~y3@1 free 5
        fw~~fw@1 free 6
        y1~1@1 fixed 0
        y2~1@1 fixed 0
        y3~1@1 fixed 0
        fw~1@1 fixed 0
        fb=~y1@2 fixed 1
        fb=~y2@2 free 7
        fb=~y3@2 free 8
        fb~w@2 free 9
        y1~~y1@2 free 10
        y2~~y2@2 free 11
        y3~~y3@2 free 12
        fb~~fb@2 free 13
        w~~w@2 exo
        y1~1@2 free 14
        y2~1@2 free 15
        y3~1@2 free 16
        w~1@2 exo
        fb~1@2 fixed 0
        """,
    ),
    Case(
        "two-level-names",
        "level: within\n  y ~ x\nlevel: between\n  y ~ w",
        rows="""
        y~x@1 free 1
        y~~y@1 free 2
        x~~x@1 exo
        y~1@1 fixed 0
        x~1@1 exo
        y~w@2 free 3
        y~~y@2 free 4
        w~~w@2 exo
        y~1@2 free 5
        w~1@2 exo
        """,
    ),
]


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def row_lines(table: ParameterTable) -> list[str]:
    """The table in the row format of ``CASES``."""
    several = len(table.blocks) > 1
    out = []
    for row in table.rows:
        constraint = not row.is_model_parameter
        name = row.name if constraint or not several else f"{row.name}@{row.block}"
        parts = [name]
        if not constraint:
            if row.exo:
                parts.append("exo")
            elif row.free > 0:
                parts += ["free", str(row.free)]
            else:
                parts += ["fixed", _number(row.value)]
            if row.free > 0 and not math.isnan(row.start):
                parts += ["start", _number(row.start)]
        if row.label and row.op is not ast.Op.DEFINED:
            parts += ["label", row.label]
        if math.isfinite(row.lower):
            parts += ["lower", _number(row.lower)]
        if math.isfinite(row.upper):
            parts += ["upper", _number(row.upper)]
        out.append(" ".join(parts))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rows_match_lavaan(case: Case):
    table = build_partable(
        parse(case.model, "model.sem"), make_options(case.kind, **case.options), case.ngroups
    )
    expected = [line.strip() for line in case.rows.strip().splitlines()]
    assert sorted(row_lines(table)) == sorted(expected)


def _values(modifier: ast.Modifier) -> str:
    shown = [
        "NA" if v is None else (_number(v) if isinstance(v, float) else str(v))
        for v in modifier.values
    ]
    return shown[0] if len(shown) == 1 else "(" + "|".join(shown) + ")"


def _term(term: ast.Term) -> str:
    if not term.modifiers:
        return term.name
    mods = ",".join(f"{m.kind.value}={_values(m)}" for m in term.modifiers)
    return f"{term.name}[{mods}]"


def summary(statement) -> str:
    """One line per statement: ``y1,y2 ~ x1[label=a] x2``, ``ab := a*b``, ``level: 1``."""
    if isinstance(statement, ast.Relation):
        lhs = ",".join(name.name for name in statement.lhs)
        return f"{lhs} {statement.op.value} " + " ".join(_term(t) for t in statement.rhs)
    if isinstance(statement, ast.Definition):
        return f"{statement.name.name} := {ast.render(statement.expr)}"
    if isinstance(statement, ast.Constraint):
        left, right = ast.render(statement.left), ast.render(statement.right)
        return f"{left} {statement.op.value} {right}"
    return f"{statement.kind}: {statement.value}"


AST_CASES = [
    ("", []),
    ("  \n# only a comment\n! and another\n\n", []),
    ("y ~ 1", ["y ~1 1"]),
    ("y ~ 0", ["y ~1 1[value=0]"]),
    ("y ~ 1 + x", ["y ~1 1", "y ~ x"]),
    ("y ~ m*1", ["y ~1 1[label=m]"]),
    ("f =~ 0.5*x1 + a*x1", ["f =~ x1[value=0.5] x1[label=a]"]),
    ("f =~ NA*x1 + x2", ["f =~ x1[value=NA] x2"]),
    ("y ~ 1e-2*x + 2.5E+3*z + -.5*w", ["y ~ x[value=0.01] z[value=2500] w[value=-0.5]"]),
    (
        "y ~ 1/4*x + 2^3*z + sqrt(9)*w + (-(2))*v",
        ["y ~ x[value=0.25] z[value=8] w[value=3] v[value=-2]"],
    ),
    ("y1 + y2 ~ x", ["y1,y2 ~ x"]),
    ("y ~ c(a, NA)*x + c(1, NA)*z", ["y ~ x[label=(a|NA)] z[value=(1|NA)]"]),
    ("y ~ c('a', \"b\")*x", ["y ~ x[label=(a|b)]"]),
    ('y ~ label("a b")*x', ["y ~ x[label=a b]"]),
    ("y ~ start(c(1, 2))*x + start(3, NA)*z", ["y ~ x[start=(1|2)] z[start=(3|NA)]"]),
    ("y ~ fixed(1)*x", ["y ~ x[value=1]"]),
    ("y ~~ lower(0)*y + upper(1)*y", ["y ~~ y[lower=0] y[upper=1]"]),
    ("y ~ equal('y~z')*x + z", ["y ~ x[equal=y~z] z"]),
    ("y ~ 0.5?x + c(1, 2)?z", ["y ~ x[start=0.5] z[start=(1|2)]"]),
    ("y ~ start(0.5)*a*x", ["y ~ x[start=0.5,label=a]"]),
    ("f.1 =~ x_1 + .x2 + X3.b", ["f.1 =~ x_1 .x2 X3.b"]),
    ("ab := a*(b + c)", ["ab := a*(b+c)"]),
    ("d := -a^2 + exp(b)/2 - (c - d) / (e*f)", ["d := -a^2+exp(b)/2-(c-d)/(e*f)"]),
    ("e := (a^b)^c + a^-b + (-a)^2", ["e := (a^b)^c+a^-b+(-a)^2"]),
    ("a == 2*b\na < b\na > 0", ["a == 2*b", "a < b", "a > 0"]),
    ("level: 1\ny ~ x\nLevel: 'between'\ny ~ w", ["level: 1", "y ~ x", "level: between", "y ~ w"]),
    ("f =~ x1 +\n  x2\n  + x3\n  +\n\n  x4", ["f =~ x1 x2 x3 x4"]),
    ("f =~ x1 + x2 *\n  x3", ["f =~ x1 x3[label=x2]"]),
    ("y ~ x ; z ~ w # comment\n! another\n;;\n", ["y ~ x", "z ~ w"]),
    ("f =~ x1 + x2\r\ny ~ f\r\n", ["f =~ x1 x2", "y ~ f"]),
    ("ab := a *\n  b", ["ab := a*b"]),
]


@pytest.mark.parametrize("text, expected", AST_CASES, ids=[repr(t)[:40] for t, _ in AST_CASES])
def test_syntax_tree(text: str, expected: list[str]):
    model = parse(text, "model.sem")
    assert [summary(s) for s in model.statements] == expected


def test_spans_point_at_the_text():
    text = "f =~ x1 + 0.5*x2\nab := a*b"
    relation, definition = parse(text).statements
    term = relation.rhs[1]
    assert text[term.span.start : term.span.end] == "0.5*x2"
    assert text[term.name_span.start : term.name_span.end] == "x2"
    assert text[term.modifiers[0].span.start : term.modifiers[0].span.end] == "0.5"
    assert text[relation.op_span.start : relation.op_span.end] == "=~"
    assert text[definition.span.start : definition.span.end] == "ab := a*b"
    assert text[definition.name.span.start : definition.name.span.end] == "ab"


def test_long_expressions_need_no_recursion():
    """A sum of thousands of terms is a chain, not a nesting: it parses and renders."""
    text = "y ~ a*x\nz := " + " + ".join(["a"] * 3000)
    table = build_partable(parse(text), make_options("sem"))
    assert table.definitions[0].rhs == "+".join(["a"] * 3000)
