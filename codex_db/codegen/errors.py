"""Errors of the code generator."""

from __future__ import annotations

from codex_db._error_base import CodexDBError

__all__ = ["CodegenError"]


class CodegenError(CodexDBError):
    """The request cannot be turned into code: a bad option, an unsupported query or type.

    The message names the option, or the file and query, and says how to fix it.
    """

    __module__ = "codex_db.codegen"
