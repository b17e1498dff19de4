"""Stage 3: parameter table -> compiled model (RAM layout, sympy parameter space)."""

from semlang.compile.model import CompiledModel, compile_model

__all__ = ["CompiledModel", "compile_model"]
