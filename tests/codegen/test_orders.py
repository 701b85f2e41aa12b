"""`codegen.orders`: which ORDER BY is replaced, and what the directives may hold."""

from __future__ import annotations

import pytest

from codex_db.codegen import CodegenError
from codex_db.codegen.orders import plan_orders, split_comments

NEWEST = ("newest", "id DESC")
OLDEST = ("oldest", "id")


def _texts(text: str) -> dict[str, str]:
    found = plan_orders("q.sql: Q", "Q", ":many", text, [NEWEST, OLDEST])
    assert found is not None
    return {o.key: o.sql.removeprefix("-- name: Q :many\n") for o in found.orders}


def test_split_comments_keeps_the_docstring() -> None:
    """Only ``order: key = clause`` lines are directives; other comments stay the docstring."""
    comments = [" Newest first.", " order: newest = id DESC", " Order of events: see docs."]
    assert split_comments(comments) == (
        [" Newest first.", " Order of events: see docs."],
        [("newest", "id DESC")],
    )


@pytest.mark.parametrize(
    ("text", "oldest"),
    [
        ("SELECT id FROM t ORDER BY id DESC", "SELECT id FROM t ORDER BY id\n"),
        (
            "SELECT id FROM t ORDER BY id DESC\nLIMIT $1 OFFSET $2",
            "SELECT id FROM t ORDER BY id\nLIMIT $1 OFFSET $2\n",
        ),
        (
            "SELECT string_agg(x, ',' ORDER BY x), id, rank() OVER (ORDER BY y) FROM t"
            " ORDER BY  id  desc FOR UPDATE",
            "SELECT string_agg(x, ',' ORDER BY x), id, rank() OVER (ORDER BY y) FROM t"
            " ORDER BY  id FOR UPDATE\n",
        ),
        (
            "WITH s AS (SELECT id FROM t ORDER BY id LIMIT 5) SELECT id FROM s ORDER BY id DESC",
            "WITH s AS (SELECT id FROM t ORDER BY id LIMIT 5) SELECT id FROM s ORDER BY id\n",
        ),
    ],
)
def test_only_the_top_level_order_by_is_replaced(text: str, oldest: str) -> None:
    """Subqueries, aggregates and windows keep theirs; LIMIT, OFFSET and FOR stay after it."""
    texts = _texts(text)
    assert texts["newest"] == text + "\n"
    assert texts["oldest"] == oldest


@pytest.mark.parametrize(
    ("text", "lines", "message"),
    [
        ("SELECT id FROM t", [NEWEST], "need a top-level ORDER BY"),
        ("SELECT id FROM t ORDER BY id DESC", [OLDEST], "is none of its '-- order:' clauses"),
        ("SELECT id FROM t ORDER BY id DESC", [NEWEST, ("newest", "id")], "listed twice"),
        ("SELECT id FROM t ORDER BY id DESC", [NEWEST, ("Oldest", "id")], "lower_snake_case"),
        ("SELECT id FROM t ORDER BY id DESC", [NEWEST, ("x", "id /* */")], "plain ORDER BY"),
        ("SELECT id FROM t ORDER BY id DESC", [NEWEST, ("x", "lower(id")], "unbalanced"),
        ("SELECT 1 UNION SELECT 2 ORDER BY 1", [("a", "1")], "set operation"),
    ],
)
def test_bad_directives_are_refused(text: str, lines: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(CodegenError, match=message):
        plan_orders("q.sql: Q", "Q", ":many", text, lines)
