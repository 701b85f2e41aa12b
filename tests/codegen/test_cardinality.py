"""`cardinality.one_row`: which query texts are proven to return exactly one row."""

from __future__ import annotations

import pytest

from codex_db.codegen.cardinality import OneRow, one_row

INSERT = OneRow("insert")


@pytest.mark.parametrize(
    "text",
    [
        "INSERT INTO users (id, name) VALUES ($1, $2) RETURNING *",
        "insert into users (id) values ($1) returning id;",
        "INSERT INTO public.users AS u (id) OVERRIDING SYSTEM VALUE VALUES ($1) RETURNING u.id",
        'INSERT INTO "Users" ("id") VALUES ($1) RETURNING "id"',
        "INSERT INTO users DEFAULT VALUES RETURNING id",
        "INSERT INTO users VALUES ((SELECT max(id) + 1 FROM users), $1) RETURNING id",
        "INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET n = excluded.n "
        "RETURNING *",
        "INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) WHERE NOT deleted "
        "DO UPDATE SET n = excluded.n RETURNING *",
        "INSERT INTO users (id) VALUES ($1) ON CONFLICT ON CONSTRAINT users_pkey "
        "DO UPDATE SET (a, b) = (SELECT 1, 2 WHERE true) RETURNING *",
        "INSERT INTO users (id) -- a comment: VALUES (1), (2)\nVALUES ($1) RETURNING id",
    ],
)
def test_single_row_inserts(text: str) -> None:
    assert one_row(text) == INSERT


@pytest.mark.parametrize(
    "text",
    [
        "INSERT INTO users (id) VALUES ($1), ($2) RETURNING id",
        "INSERT INTO users (id) SELECT $1 RETURNING id",
        "INSERT INTO users (id) SELECT id FROM (VALUES (1)) v (id) RETURNING id",
        "INSERT INTO users (SELECT 1) RETURNING id",
        "INSERT INTO users (id) TABLE other RETURNING id",
        "INSERT INTO users VALUES (1) UNION SELECT 2 RETURNING id",
        "INSERT INTO users VALUES (1) LIMIT 0 RETURNING id",
        "INSERT INTO users (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id",
        "INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING id",
        "INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET n = 1 "
        "WHERE users.n IS NULL RETURNING *",
        "INSERT INTO users (id) VALUES ($1)",
        "WITH x AS (SELECT 1) INSERT INTO users (id) VALUES ($1) RETURNING id",
        "UPDATE users SET n = 1 WHERE id = $1 RETURNING *",
        "DELETE FROM users WHERE id = $1 RETURNING id",
        "INSERT INTO users (id) VALUES ($1 RETURNING id",
        "INSERT INTO users (id) VALUES ($1) RETURNING id; DELETE FROM users",
    ],
)
def test_other_inserts_are_not_proven(text: str) -> None:
    assert one_row(text) is None


@pytest.mark.parametrize(
    ("text", "width", "nullable"),
    [
        ("SELECT count(*) FROM content WHERE deleted_at IS NULL", 1, set()),
        ("SELECT count(*)", 1, set()),
        ("SELECT COUNT(DISTINCT x)::int AS n FROM t", 1, set()),
        ("SELECT count(*) FILTER (WHERE x > 0) positive FROM t", 1, set()),
        ("SELECT max(x) FROM t", 1, {0}),
        (
            "SELECT count(*)::int AS total, max(x) m, sum(y) FILTER (WHERE z) AS s, 1, "
            "'a'::text, NULL, $1::int, true FROM t",
            8,
            {1, 2},
        ),
        (
            "SELECT string_agg(x, ',' ORDER BY x) FROM t WHERE a IS NOT DISTINCT FROM $1",
            1,
            {0},
        ),
        ("SELECT avg(x)::numeric(10, 2), array_agg(x)::int[] FROM t", 2, {0, 1}),
        ("SELECT max(x)::double precision FROM t", 1, {0}),
        (
            "SELECT count(*) FROM (SELECT * FROM t LIMIT 5) s "
            "JOIN u ON u.id = s.id WHERE a IN (SELECT b FROM c GROUP BY b HAVING true)",
            1,
            set(),
        ),
    ],
)
def test_aggregate_selects(text: str, width: int, nullable: set[int]) -> None:
    assert one_row(text) == OneRow("aggregate", width, frozenset(nullable))


@pytest.mark.parametrize(
    ("text", "width", "nullable"),
    [
        ("SELECT 1", 1, set()),
        ("SELECT 1, 'a'", 2, set()),
        ("SELECT $1::int + 1 AS next, $2::text AS label", 2, set()),
        ("SELECT -1, NOT true, 'a' || $1 || 'b' AS s, $1 IS NOT NULL", 4, set()),
        ("SELECT EXISTS (SELECT 1 FROM t WHERE id = $1) AS found", 1, set()),
        ("SELECT NOT EXISTS (SELECT 1 FROM t)", 1, set()),
        ("SELECT now(), current_timestamp, gen_random_uuid()::text AS id", 3, set()),
        ("SELECT pg_try_advisory_lock($1)", 1, set()),
        ("SELECT (SELECT name FROM t WHERE id = $1) AS name", 1, {0}),
        ("SELECT nullif($1, 0), coalesce($2, 0)", 2, {0}),
        ("SELECT (SELECT count(*) FROM t)", 1, {0}),
    ],
)
def test_constant_selects(text: str, width: int, nullable: set[int]) -> None:
    """No FROM and no WHERE: constants, scalar functions, EXISTS and subqueries are one row."""
    assert one_row(text) == OneRow("constant", width, frozenset(nullable))


@pytest.mark.parametrize(
    ("text", "nullable"),
    [
        ("SELECT coalesce(sum(x), 0) FROM t", set()),
        ("SELECT count(*) + 1 FROM t", set()),
        ("SELECT sum(x) * 2, count(*) - 1 AS m FROM t WHERE y", {0}),
    ],
)
def test_aggregate_expressions(text: str, nullable: set[int]) -> None:
    """Expressions of aggregates are one row too; only count-and-constant ones keep NOT NULL."""
    found = one_row(text)
    assert found is not None and found.kind == "aggregate" and found.nullable == nullable


@pytest.mark.parametrize(
    "text",
    [
        "SELECT count(*) FROM t GROUP BY x",
        "SELECT count(*) FROM t GROUP BY ()",
        "SELECT count(*) FROM t HAVING count(*) > 1",
        "SELECT count(*) FROM t LIMIT 1",
        "SELECT count(*) FROM t OFFSET $1",
        "SELECT count(*) FROM t FETCH FIRST 1 ROW ONLY",
        "SELECT count(*) FROM t ORDER BY 1",
        "SELECT count(*) FROM t UNION SELECT 1",
        "SELECT count(*) FROM t EXCEPT SELECT 1",
        "SELECT count(*) OVER () FROM t",
        "SELECT count(*) OVER w FROM t WINDOW w AS ()",
        "SELECT DISTINCT count(*) FROM t",
        "SELECT x, count(*) FROM t",
        "SELECT 1 FROM t",
        "SELECT pg_catalog.count(*) FROM t",
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t",
        "SELECT max(x)::double precision AS m FROM t",
        "WITH s AS (SELECT 1) SELECT count(*) FROM s",
        "SELECT * FROM t",
        "SELECT count(* FROM t",
        "SELECT 1 WHERE $1",
        "SELECT generate_series(1, 3)",
        "SELECT unnest($1::int[])",
        "SELECT my_function()",
        "SELECT (generate_series(1, 3))",
        "SELECT coalesce((SELECT max(x) FROM u), 0) FROM t",
        "SELECT now() FROM t",
        "SELECT 1 FOR UPDATE",
        "SELECT x",
        "SELECT 1 UNION SELECT 2",
    ],
)
def test_other_selects_are_not_proven(text: str) -> None:
    assert one_row(text) is None
