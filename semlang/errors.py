"""The one error hierarchy of semlang, and the warnings it issues.

Every error caused by model text carries the source and the span it refers to, and renders like a
compiler message::

    model.sem:3:14: error: unknown operator '~='
      f ~= x1 + x2
        ^^
    hint: did you mean '=~' (is measured by)?

User mistakes raise a subclass of :class:`SemlangError`; anything else escaping is a bug.
"""

from __future__ import annotations

import bisect
from functools import cached_property

from semlang.records import dataclass


@dataclass(frozen=True)
class Span:
    """A half-open range ``[start, end)`` of character offsets into a model's source text."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            object.__setattr__(self, "end", self.start)

    def merge(self, other: Span) -> Span:
        return Span(min(self.start, other.start), max(self.end, other.end))


@dataclass(frozen=True)
class Source:
    """A model's text and the name it is reported under (a file name or ``<model>``)."""

    text: str
    name: str = "<model>"

    def location(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    @cached_property
    def _line_starts(self) -> list[int]:
        """Offset of the first character of each line (a long model is located row by row)."""
        return [0] + [k + 1 for k, char in enumerate(self.text) if char == "\n"]

    def line_text(self, line: int) -> str:
        lines = self.text.split("\n")
        if 1 <= line <= len(lines):
            return lines[line - 1].rstrip("\r")
        return ""


class SemlangError(Exception):
    """Base class of every error semlang raises for a user's mistake."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class ModelError(SemlangError):
    """An error located in the model text."""

    def __init__(
        self,
        message: str,
        source: Source | None = None,
        span: Span | None = None,
        hint: str | None = None,
    ):
        super().__init__(message, hint)
        self.source = source
        self.span = span

    @property
    def line(self) -> int | None:
        if self.source is None or self.span is None:
            return None
        return self.source.location(self.span.start)[0]

    @property
    def column(self) -> int | None:
        if self.source is None or self.span is None:
            return None
        return self.source.location(self.span.start)[1]

    def located(self, source: Source, span: Span | None = None) -> ModelError:
        """The same error attached to ``source`` (and ``span`` when it had none)."""
        return type(self)(self.message, source, self.span or span, self.hint)

    def __str__(self) -> str:
        if self.source is None or self.span is None:
            name = self.source.name if self.source is not None else "<model>"
            return f"{name}: error: {super().__str__()}"
        line, col = self.source.location(self.span.start)
        text = self.source.line_text(line)
        end_line, end_col = self.source.location(max(self.span.start, self.span.end - 1))
        width = (end_col - col + 1) if end_line == line and self.span.end > self.span.start else 1
        width = max(1, min(width, len(text) - col + 2))
        indent = "".join(c if c == "\t" else " " for c in text[: col - 1])
        caret = indent + "^" * width
        out = f"{self.source.name}:{line}:{col}: error: {self.message}\n  {text}\n  {caret}"
        if self.hint:
            out += f"\nhint: {self.hint}"
        return out


class ModelSyntaxError(ModelError):
    """The model text does not follow the grammar."""


class ModelSpecificationError(ModelError):
    """The model text parses, but does not describe a valid model."""


class NotSupportedError(ModelSpecificationError):
    """Syntax that lavaan has and semlang does not fit yet."""


class IdentificationError(ModelSpecificationError):
    """The model has more free parameters than the data have moments (df < 0)."""


class DataError(SemlangError):
    """The data do not fit the model: unknown, non-numeric, constant or missing columns."""


class OptionError(SemlangError):
    """An unknown option or an option value semlang does not accept."""


class EstimationError(SemlangError):
    """Estimation could not even start (for example a singular sample covariance matrix)."""


class SemlangWarning(UserWarning):
    """Base class of semlang's warnings."""


class ConvergenceWarning(SemlangWarning):
    """The optimizer stopped before reaching a minimum."""


class HeywoodWarning(SemlangWarning):
    """A variance is estimated as negative (a Heywood case)."""


class ImproperSolutionWarning(SemlangWarning):
    """The solution is on or near a boundary of the parameter space (e.g. a latent variable
    scaled by an indicator that hardly measures it)."""


class LocalOptimumWarning(SemlangWarning):
    """A refit from random starting values (``starts=K``) found a better optimum."""


class NotPositiveDefiniteWarning(SemlangWarning):
    """A sample or model-implied covariance matrix is not positive definite."""


class IdentificationWarning(SemlangWarning):
    """The information matrix is (near) singular: the model may not be identified."""


class DataWarning(SemlangWarning):
    """Rows were dropped or data were changed on the way in (for example listwise deletion)."""


class UnknownVariableError(ModelSpecificationError, DataError):
    """The model names a variable that is not a column of the data (located in the model)."""
