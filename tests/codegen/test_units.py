"""Unit tests of the pure parts: names, type spellings, options, layout."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import pq

from codex_db.codegen import CodegenError, naming
from codex_db.codegen._imports import Imports
from codex_db.codegen._layout import (
    Group,
    docstring,
    file_noqa,
    secret_noqa,
    string,
    string_literal,
)
from codex_db.codegen.options import parse_options
from codex_db.codegen.pgtypes import _BUILTINS, PyType, binary_copy_type, builtin_type, normalize

ANY = PyType("Any")


@pytest.mark.parametrize(
    ("name", "snake", "pascal"),
    [
        ("GetUser", "get_user", "GetUser"),
        ("ListUsersByIDs", "list_users_by_ids", "ListUsersByIDs"),
        ("HTTPServerLog", "http_server_log", "HTTPServerLog"),
        ("get_user", "get_user", "GetUser"),
        ("billing_invoice", "billing_invoice", "BillingInvoice"),
    ],
)
def test_query_and_class_names(name: str, snake: str, pascal: str) -> None:
    """sqlc query names become snake functions and Pascal classes."""
    assert naming.snake_name(name) == snake
    assert naming.pascal_name(name) == pascal


@pytest.mark.parametrize(
    ("raw", "safe"),
    [("class", "class_"), ("from", "from_"), ("id", "id"), ("type", "type_"),
     ("date", "date_"), ("conn", "conn_"), ("?column?", "column"), ("userId", "user_id"),
     ("1st", "c_1st"), ("l", "l_"), ("match", "match_")],
)  # fmt: skip
def test_identifiers_are_escaped(raw: str, safe: str) -> None:
    """Keywords, annotation names and names generated code uses get a trailing underscore."""
    assert naming.identifier(raw) == safe


def test_dedupe_and_enum_members() -> None:
    """Repeated names are numbered; enum labels become UPPER_SNAKE members."""
    assert naming.dedupe(["id", "name", "id", "id"]) == ["id", "name", "id_2", "id_3"]
    assert [naming.enum_member(v) for v in ["read-only", "24h", "", "a b"]] == [
        "READ_ONLY",
        "VALUE_24H",
        "EMPTY",
        "A_B",
    ]


@pytest.mark.parametrize(
    ("plural", "single"),
    [("users", "user"), ("categories", "category"), ("addresses", "address"),
     ("statuses", "status"), ("content", "content"), ("media_items", "media_item"),
     ("status", "status"), ("boxes", "box")],
)  # fmt: skip
def test_singular(plural: str, single: str) -> None:
    """Table names become singular class names."""
    assert naming.singular(plural) == single


@pytest.mark.parametrize(
    ("schema", "name"),
    [("", "int"), ("", "integer"), ("", "bigserial"), ("pg_catalog", "int8"),
     ("", "pg_catalog.int4"), ("", "pg_catalog.bool"), ("", "boolean"),
     ("", "timestamp with time zone"), ("pg_catalog", "timestamptz"), ("", "character varying"),
     ("pg_catalog", "varchar"), ("", "double precision"), ("", "money"), ("", "bytea"),
     ("", "inet"), ("pg_catalog", "interval"), ("", "tstzrange"), ("", "jsonb")],
)  # fmt: skip
def test_every_spelling_is_known(schema: str, name: str) -> None:
    """All the spellings sqlc reports normalise to a known built-in type."""
    found_schema, found = normalize(schema, name)
    assert found_schema == ""
    assert builtin_type(found, ANY) is not None


def test_type_mapping_samples() -> None:
    """A few mappings that matter: money is str, bytea bytes, json carries its kind."""
    mapped = {
        n: builtin_type(n, ANY) for n in ["money", "bytea", "numeric", "jsonb", "json", "cidr"]
    }
    assert {n: t.annotation for n, t in mapped.items() if t} == {
        "money": "str", "bytea": "bytes", "numeric": "Decimal",
        "jsonb": "Any", "json": "Any", "cidr": "Cidr",
    }  # fmt: skip
    assert mapped["jsonb"] is not None and mapped["jsonb"].json == "jsonb"
    assert normalize("billing", "invoice_status") == ("billing", "invoice_status")
    assert builtin_type("email_address", ANY) is None


def test_binary_copy_types_have_psycopg_dumpers() -> None:
    """Every type name a binary COPY may declare has a psycopg binary dumper; the rest is text."""
    declared = {
        found
        for name in _BUILTINS
        for array in (False, True)
        if (found := binary_copy_type(name, array=array)) is not None
    }
    for name in sorted(declared):
        oid = psycopg.adapters.types.get_oid(name)
        assert psycopg.adapters.get_dumper_by_oid(oid, pq.Format.BINARY), name
    assert binary_copy_type("timestamp with time zone", array=False) == "timestamptz"
    assert binary_copy_type("bpchar", array=False) == "text"  # same bytes; psycopg has no bpchar
    assert binary_copy_type("int4", array=True) == "int4[]"
    no_binary = ["money", "macaddr", "bit", "xml", "tsvector", "point", "int4range", "oid"]
    assert [binary_copy_type(n, array=False) for n in no_binary] == [None] * len(no_binary)
    assert [binary_copy_type(n, array=True) for n in ["bpchar", "jsonb", "inet"]] == [None] * 3


def test_options_merge_and_validate() -> None:
    """Codegen options override global ones; unknown keys and bad values name the option."""
    options = parse_options(
        json.dumps({"package": "a.b", "emit_async": True}).encode(),
        b'{"emit_async": false, "rename": {"x": "y"}}',
    )
    assert options.emit_async and options.rename == {"x": "y"} and options.first_party == ["a"]
    with pytest.raises(CodegenError, match="unknown option 'nope'; valid options: "):
        parse_options(b'{"package": "a", "nope": 1}', b"")
    with pytest.raises(
        CodegenError, match=r"overrides\[0\]' needs exactly one of 'db_type' or 'column'"
    ):
        parse_options(b'{"package": "a", "overrides": [{"py_type": "str"}]}', b"")
    with pytest.raises(CodegenError, match="'package' must be a dotted module path"):
        parse_options(b'{"package": "a-b"}', b"")


def test_layout_explodes_with_magic_commas() -> None:
    """A group that does not fit is exploded one item per line with a trailing comma."""
    group = Group("f(", ["a", Group("(", ["x"], ")", one_tuple=True)], ")")
    assert group.render("", "", 20) == ["f(a, (x,))"]
    assert group.render("", "", 9) == ["f(", "    a,", "    (x,),", ")"]


def test_strings_and_noqa() -> None:
    """SQL literals round-trip exactly; long or whitespace-trailing lines get a file noqa."""
    text = 'SELECT \'a """ b \\ c\' AS "x"'
    literal = string_literal(text)
    assert eval(literal) == text  # noqa: S307 - checking our own literal
    assert secret_noqa("GET_BY_TOKEN") == "  # noqa: S105" and secret_noqa("TOKENS") == ""
    assert file_noqa(["x" * 5 + " " + "y" * 100, "a "], 100) == "# ruff: noqa: E501, W291"
    assert file_noqa(["short"], 100) == ""
    assert docstring(['Ends with "quote"'], "") == ['"""Ends with "quote" """']
    assert docstring(["One", "", "  two"], "    ") == ['    """One', "", "    two", '    """']


@pytest.mark.parametrize(
    "text",
    ["a\tb", "cr\r\nlf", "nul\x00 bell\x07", "en \u2013 dash", "nbsp\u00a0", "caf\u00e9",
     "quote\"d", "it's", "back\\slash\\", "emoji \U0001f600", 'end"'],
)  # fmt: skip
def test_literals_escape_what_ruff_flags(text: str) -> None:
    """Literals keep the exact value but hold no tab, control or ambiguous character."""
    for literal in (string_literal(text), string(text)):
        assert eval(literal) == text  # noqa: S307 - checking our own literal
        assert "\t" not in literal and "\r" not in literal and "\u2013" not in literal
        assert "\u00a0" not in literal
    assert "\n" not in string(text)
    assert string("caf\u00e9") == '"caf\u00e9"'  # letters stay as they are


def test_ambiguous_names_are_renamed() -> None:
    """Members and classes named O or I (E741/E742), or like an import, get a suffix; L stays."""
    assert [naming.enum_member(v) for v in ("o", "i", "l")] == ["O_", "I_", "L"]
    assert naming.class_name("O", "Enum") == "OEnum" and naming.class_name("Ok", "Row") == "Ok"
    assert naming.class_name("Decimal", "Row") == "DecimalRow"  # would shadow decimal.Decimal


def test_import_names_sorted_like_ruff() -> None:
    """Constants, classes, then functions; case-insensitive natural order within each."""
    imports = Imports(["app"])
    for name in (
        "POSTS_WITH_AUTHORS",
        "POSTS_WITH_AUTHOR_AND_TEAM",
        "Row10",
        "Row2",
        "scalar",
        "P",
    ):
        imports.add("app.queries", name)
    names = "POSTS_WITH_AUTHOR_AND_TEAM, POSTS_WITH_AUTHORS, P, Row2, Row10, scalar"
    assert imports.render(200) == [f"from app.queries import {names}"]
