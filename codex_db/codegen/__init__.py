"""sqlc process plugin generating typed psycopg 3 functions and msgspec Structs.

sqlc parses the schema and queries with PostgreSQL's grammar and runs the
``sqlc-gen-codex-db`` console script (`codex_db.codegen.__main__`) as a ``process``
plugin with ``format: json``. sqlc passes no PATH and no arguments, so ``cmd`` must be
a path: the project's ``sqlc.yaml`` uses ``./.venv/bin/sqlc-gen-codex-db`` (relative
to the config's directory); other setups give the absolute path of the script.

For each ``queries/<file>.sql`` the plugin writes ``<file>.py`` (SQL constants, row
and params Structs, sync functions) and, with ``emit_async``, ``<file>_async.py``;
plus ``models.py`` (table/view Structs, StrEnums, ``register_types``) and
``__init__.py``. Generated functions take a `codex_db.dbtx.DBTX` first::

    from codex_db.dbtx import Conn
    from codex_db.generated import users

    user = users.get_user(Conn.of(connection), id="u1")

Nullable parameters (``sqlc.narg(x)``, nullable columns) default to ``None`` in
keyword-only arguments and ``<Query>Params`` Structs; required ones have no default.
An ``sqlc.embed(t)`` is ``T`` when ``t`` is reached from the FROM table through inner,
cross or comma joins only, and ``T | None`` (None when all its cells are NULL) on the
nullable side of an outer join or when `codex_db.codegen.joins` cannot read the
FROM clause (subqueries, LATERAL, parentheses, CTEs, set operations).

A ``:one``/``:many`` query may list whitelisted sort orders in ``-- order: key = clause``
comment lines (`codex_db.codegen.orders`): its function then takes an ``order`` enum.
The plugin's warnings (types it fell back to ``Any`` for) go to stderr and, through
the capture file, to `check` and `regenerate`, since sqlc hides a successful plugin's
stderr.

`generate` does the work on a decoded request; `check` reports stale, missing and
orphaned files; `regenerate` runs sqlc and deletes orphans. Options are documented
on `codex_db.codegen.options.Options`.
"""

from __future__ import annotations

from codex_db.codegen.check import CheckResult, Regenerated, check, regenerate
from codex_db.codegen.errors import CodegenError
from codex_db.codegen.generate import generate

__all__ = ["CheckResult", "CodegenError", "Regenerated", "check", "generate", "regenerate"]
