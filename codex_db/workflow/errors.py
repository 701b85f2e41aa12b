"""Errors of the schema-change workflow (all `codex_db.CodexDBError`)."""

from __future__ import annotations

from codex_db.errors import CodexDBError

__all__ = ["DriftError", "VerificationError"]


class DriftError(CodexDBError):
    """``migrations/`` do not build the schema ``sql/`` declares (or a database differs)."""

    __module__ = "codex_db.workflow"


class VerificationError(CodexDBError):
    """A migration ``gen`` composed failed one of the checks ``codex-db check`` runs.

    The message names the check (lint, apply, rollback, vet) and the fix;
    nothing was written to the project.
    """

    __module__ = "codex_db.workflow"
