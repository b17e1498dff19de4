"""Stage 1: model text -> syntax tree.

:func:`semlang.syntax.parser.parse` reads lavaan's model language (grammar in
``grammar/semlang.lark``) into the frozen nodes of :mod:`semlang.syntax.ast`, each with the span
of text it came from; mistakes raise located :class:`~semlang.errors.ModelSyntaxError` or
:class:`~semlang.errors.NotSupportedError`.
"""
