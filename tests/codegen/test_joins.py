"""The FROM-clause reader behind embed nullability (`codex_db.codegen.joins`)."""

from __future__ import annotations

import pytest

from codex_db.codegen.joins import from_items


def _shape(text: str) -> list[tuple[str, str, bool]] | None:
    items = from_items(text)
    if items is None:
        return None
    return [
        (f"{i.schema}.{i.name}" if i.schema else i.name, i.qualifier, i.nullable) for i in items
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "SELECT 1 FROM content\nJOIN users ON users.id = content.creator_id\n"
            "LEFT JOIN organizations\n  ON organizations.id = content.organization_id\n"
            "LEFT OUTER JOIN media_items ON media_items.id = content.media_item_id\n"
            "WHERE content.status = 'published' LIMIT $1",
            [
                ("content", "content", False),
                ("users", "users", False),
                ("organizations", "organizations", True),
                ("media_items", "media_items", True),
            ],
        ),
        (
            'SELECT 1 FROM billing.invoices AS i INNER JOIN public."Users" u USING (id)',
            [("billing.invoices", "i", False), ("public.Users", "u", False)],
        ),
        (
            "SELECT 1 FROM a LEFT JOIN b ON left(b.x, 2) = a.y RIGHT JOIN c ON true",
            [("a", "a", True), ("b", "b", True), ("c", "c", False)],
        ),
        (
            "SELECT 1 FROM a LEFT JOIN b ON true, c CROSS JOIN d FULL JOIN e ON true",
            [("a", "a", False), ("b", "b", True), ("c", "c", True), ("d", "d", True),
             ("e", "e", True)],
        ),
        (
            "SELECT (SELECT x FROM z LEFT JOIN y ON true) FROM a JOIN b ON b.id IN "
            "(SELECT id FROM c) -- LEFT JOIN in a comment\nORDER BY 1 FOR UPDATE",
            [("a", "a", False), ("b", "b", False)],
        ),
        ("SELECT 1 FROM ONLY a * x WHERE x.s = 'LEFT JOIN'", [("a", "x", False)]),
        (
            r"SELECT 1 FROM a JOIN b ON b.s = E'it\'s, LEFT JOIN c' AND b.t = U&'d\0061'",
            [("a", "a", False), ("b", "b", False)],
        ),
    ],
)  # fmt: skip
def test_from_items(text: str, expected: list[tuple[str, str, bool]]) -> None:
    assert _shape(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "SELECT 1 FROM a, LATERAL (SELECT 1) x",
        "SELECT 1 FROM a JOIN (b JOIN c ON true) ON true",
        "SELECT 1 FROM (SELECT 1) s",
        "SELECT 1 FROM generate_series(1, 2) g",
        "SELECT 1 FROM a NATURAL JOIN b",
        "SELECT 1 FROM a UNION ALL SELECT 1 FROM b",
        "WITH w AS (SELECT 1) SELECT 1 FROM w JOIN a ON true",
        "SELECT 1 FROM a t(x, y)",
        "SELECT 1 FROM a TABLESAMPLE SYSTEM (10)",
        "UPDATE a SET x = 1 FROM b",
        "SELECT 1",
        "SELECT 1 FROM a WHERE x = 'unterminated",
    ],
)
def test_unsure_clauses_give_none(text: str) -> None:
    assert from_items(text) is None
