"""The codex-db demo: migrate the configured database and show what it holds."""

from __future__ import annotations

import os

import psycopg

from codex_db import migrate
from codex_db._dsn import redact
from codex_db.server import start_embedded

_TABLES = """
SELECT c.relname,
       (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
          AND NOT a.attisdropped) AS columns,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid) AS indexes,
       (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE '%yoyo%'
ORDER BY c.relname
"""


def main() -> None:
    """Migrate, then print the tables with their column, index and trigger counts."""
    url = os.environ.get("DATABASE_URL") or start_embedded().url
    print(f"database: {redact(url)}")
    applied = migrate.apply(url, progress=lambda mid: print(f"  applied migration {mid}"))
    if not applied:
        print("  migrations: up to date")
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        print(f"server: PostgreSQL {version[0] if version else '?'}\n")
        print(f"{'table':22} {'columns':>7} {'indexes':>7} {'triggers':>8}")
        for name, columns, indexes, triggers in conn.execute(_TABLES):
            print(f"{name:22} {columns:>7} {indexes:>7} {triggers:>8}")


if __name__ == "__main__":
    main()
