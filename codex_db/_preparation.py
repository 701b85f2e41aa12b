"""Which statements the adapters let the server prepare: not those whose plan needs the values.

A filter written ``($1::uuid IS NULL OR organization_id = $1)`` (``sqlc.narg``) has
no good generic plan: planned without its value, the statement cannot use the
column's index, and reads the whole table for the rarest value. PostgreSQL
switches a prepared statement to its generic plan once five custom plans have
not cost less (measured in tests/test_query_plans.py: `ListContent` in title
order after five unfiltered pages). `Conn` and `AsyncConn` therefore pass
``prepare=False`` for such a statement: psycopg sends it unnamed, and the server
plans it for each call's values, also through a transaction-mode pooler.

The same holds for membership in an array parameter (``id = ANY($1::uuid[])``,
what ``sqlc.slice`` and the one-to-many queries use): planned without the
array, PostgreSQL assumes ten elements of average frequency and hash-joins a
whole child table (`ListOrganizationsWithPublishedContent`'s generic plan read
2,083 buffers on PostgreSQL 15 and 2,136 on 18 for one organization with 5
posts among 100k rows; planned for the value, 12). Every other statement follows the
connection's ``prepare_threshold``.
"""

from __future__ import annotations

import re

__all__ = ["PREPARE", "has_array_membership", "has_optional_filter", "needs_custom_plan"]

_TYPE = r"[\w.\"]+(?:\s+[\w.\"]+)*?(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\s*\[\s*\])*"
_OPTIONAL_FILTER = re.compile(rf"\$\d+(?:\s*::\s*{_TYPE})?\s+IS\s+NULL\s+OR\b", re.I)
_ARRAY_MEMBERSHIP = re.compile(r"(?:=|<>|!=)\s*(?:ANY|ALL|SOME)\s*\(\s*\$\d+", re.I)
_MAX_CACHED = 4096


def has_optional_filter(query: str) -> bool:
    """Whether *query* has a ``$n IS NULL OR ...`` filter (a cast after ``$n`` allowed)."""
    return _OPTIONAL_FILTER.search(query) is not None


def has_array_membership(query: str) -> bool:
    """Whether *query* compares with ``ANY``/``ALL`` of an array parameter (``= ANY($n)``)."""
    return _ARRAY_MEMBERSHIP.search(query) is not None


def needs_custom_plan(query: str) -> bool:
    """Whether *query*'s good plan depends on its parameters' values: never prepare it."""
    return has_optional_filter(query) or has_array_membership(query)


class _PrepareFlags(dict[str, "bool | None"]):
    """psycopg's ``prepare`` argument per query text, worked out on first sight."""

    def __missing__(self, query: str) -> bool | None:
        flag = False if needs_custom_plan(query) else None
        if len(self) < _MAX_CACHED:  # query texts are code literals; bound it all the same
            self[query] = flag
        return flag


PREPARE: dict[str, bool | None] = _PrepareFlags()
"""``PREPARE[query]``: ``False`` (never prepare) or ``None`` (the connection decides)."""
