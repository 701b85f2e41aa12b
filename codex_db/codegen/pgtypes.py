"""PostgreSQL type names (in every spelling sqlc reports) to Python annotations."""

from __future__ import annotations

import msgspec

__all__ = ["PyType", "builtin_type", "imported", "normalize"]

Import = tuple[str, str]
"""``(module, name)`` for ``from module import name``; ``name == ""`` for ``import module``."""


class PyType(msgspec.Struct, frozen=True):
    """The Python side of a column: annotation text, imports and how values are adapted.

    ``json`` is ``"json"``/``"jsonb"`` when parameters must be wrapped for psycopg;
    ``convert`` means results need ``msgspec.convert`` to reach the annotated type;
    ``note`` explains an ``Any`` fallback in a comment beside the field.
    """

    annotation: str
    imports: frozenset[Import] = frozenset()
    json: str = ""
    convert: bool = False
    enum: bool = False
    note: str = ""


def _t(annotation: str, *imports: Import) -> PyType:
    return PyType(annotation, frozenset(imports))


_INT = _t("int")
_FLOAT = _t("float")
_STR = _t("str")
_DATETIME = _t("datetime", ("datetime", "datetime"))
_TIME = _t("time", ("datetime", "time"))


def _range(element: str, *imports: Import) -> PyType:
    return _t(f"Range[{element}]", ("psycopg.types.range", "Range"), *imports)


def _multirange(element: str, *imports: Import) -> PyType:
    return _t(f"Multirange[{element}]", ("psycopg.types.multirange", "Multirange"), *imports)


_DECIMAL: Import = ("decimal", "Decimal")
_DATE: Import = ("datetime", "date")
_DT: Import = ("datetime", "datetime")

_BUILTINS: dict[str, PyType] = {
    **dict.fromkeys(
        [
            "int2",
            "int4",
            "int8",
            "smallint",
            "integer",
            "int",
            "bigint",
            "serial",
            "serial2",
            "serial4",
            "serial8",
            "smallserial",
            "bigserial",
            "oid",
            "xid",
            "cid",
            "regclass",
            "regtype",
            "regproc",
        ],
        _INT,
    ),
    **dict.fromkeys(["float4", "float8", "real", "double precision", "float"], _FLOAT),
    **dict.fromkeys(["numeric", "decimal"], _t("Decimal", _DECIMAL)),
    **dict.fromkeys(["bool", "boolean"], _t("bool")),
    **dict.fromkeys(
        [
            "text",
            "varchar",
            "character varying",
            "char",
            "character",
            "bpchar",
            "name",
            "citext",
            "money",
            "macaddr",
            "macaddr8",
            "bit",
            "varbit",
            "bit varying",
            "xml",
            "tsvector",
            "tsquery",
            "ltree",
            "lquery",
            "point",
            "line",
            "lseg",
            "box",
            "path",
            "polygon",
            "circle",
            "pg_lsn",
            "txid_snapshot",
            "pg_snapshot",
        ],
        _STR,
    ),
    "bytea": _t("bytes"),
    "uuid": _t("UUID", ("uuid", "UUID")),
    "date": _t("date", _DATE),
    **dict.fromkeys(["time", "time without time zone", "timetz", "time with time zone"], _TIME),
    **dict.fromkeys(
        ["timestamp", "timestamp without time zone", "timestamptz", "timestamp with time zone"],
        _DATETIME,
    ),
    "interval": _t("timedelta", ("datetime", "timedelta")),
    "inet": _t("Inet", ("codex_db.dbtx", "Inet")),
    "cidr": _t("Cidr", ("codex_db.dbtx", "Cidr")),
    "void": _t("None"),
    **dict.fromkeys(["int4range", "int8range"], _range("int")),
    "numrange": _range("Decimal", _DECIMAL),
    "daterange": _range("date", _DATE),
    **dict.fromkeys(["tsrange", "tstzrange"], _range("datetime", _DT)),
    **dict.fromkeys(["int4multirange", "int8multirange"], _multirange("int")),
    "nummultirange": _multirange("Decimal", _DECIMAL),
    "datemultirange": _multirange("date", _DATE),
    **dict.fromkeys(["tsmultirange", "tstzmultirange"], _multirange("datetime", _DT)),
}

_JSON = frozenset({"json", "jsonb"})


def normalize(schema: str, name: str) -> tuple[str, str]:
    """Fold sqlc's spellings: ``pg_catalog.int4`` in either field becomes ``("", "int4")``.

    sqlc reports built-in types with ``schema="pg_catalog"``, with the prefix inside the
    name (``"pg_catalog.bool"``) or bare (``"bigint"``); user types keep their schema.
    """
    if "." in name and not schema:
        schema, name = name.split(".", 1)
    if schema == "pg_catalog":
        schema = ""
    return schema, " ".join(name.split())


def builtin_type(name: str, json_type: PyType) -> PyType | None:
    """The Python type of a built-in PostgreSQL type (normalised name), or None if unknown."""
    if name.lower() in _JSON:
        return msgspec.structs.replace(json_type, json=name.lower())
    return _BUILTINS.get(name.lower())


def imported(py_type: str, module: str | None) -> PyType:
    """A user-given type: a builtin (``str``), a dotted path, or a name from ``module``."""
    if module:
        return PyType(py_type, frozenset({(module, py_type.split(".")[0])}))
    if "." not in py_type:
        return PyType(py_type)
    module, _, name = py_type.rpartition(".")
    return PyType(name, frozenset({(module, name)}))
