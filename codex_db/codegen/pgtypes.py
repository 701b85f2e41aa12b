"""PostgreSQL type names (in every spelling sqlc reports) to Python annotations."""

from __future__ import annotations

import msgspec

__all__ = ["PyType", "binary_copy_type", "builtin_type", "imported", "normalize"]

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
            # psycopg has no loader for these: it returns their text form (xid8 '7',
            # tid '(0,1)', regclass 'users'), and a str parameter is cast by the server.
            "xid",
            "xid8",
            "cid",
            "tid",
            "regclass",
            "regtype",
            "regproc",
            "regprocedure",
            "regoper",
            "regoperator",
            "regnamespace",
            "regrole",
            "regcollation",
            "regconfig",
            "regdictionary",
            "aclitem",
            "jsonpath",
            "refcursor",
            "int2vector",
            "oidvector",
            "gtsvector",
            "pg_node_tree",
            "pg_ndistinct",
            "pg_dependencies",
            "pg_mcv_list",
            "pg_brin_bloom_summary",
            "pg_brin_minmax_multi_summary",
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


def _binary(name: str, *spellings: str) -> dict[str, str]:
    return dict.fromkeys((name, *spellings), name)


# What a binary COPY (``Copy.set_types``) is told for each built-in type that has a
# psycopg binary dumper taking the Python type `_BUILTINS` gives it. The server reads
# each field with the column type's receive function and checks nothing else, so the
# name decides only how psycopg encodes the value. Missing types (money, macaddr, bit,
# xml, tsvector, geometry, ranges...) make the whole query a text COPY.
_BINARY_COPY: dict[str, str] = {
    **_binary("int2", "smallint", "smallserial", "serial2"),
    **_binary("int4", "integer", "int", "serial", "serial4"),
    **_binary("int8", "bigint", "bigserial", "serial8"),
    **_binary("float4", "real"),
    **_binary("float8", "double precision", "float"),
    **_binary("numeric", "decimal"),
    **_binary("bool", "boolean"),
    **_binary("text"),
    **_binary("varchar", "character varying"),
    **_binary("bytea"),
    **_binary("uuid"),
    **_binary("date"),
    **_binary("time", "time without time zone"),
    **_binary("timetz", "time with time zone"),
    **_binary("timestamp", "timestamp without time zone"),
    **_binary("timestamptz", "timestamp with time zone"),
    **_binary("interval"),
    **_binary("inet"),
    **_binary("cidr"),
    **_binary("json"),
    **_binary("jsonb"),
}
# bpchar's binary format is its text, and psycopg has no bpchar dumper: send text.
# (Not in arrays: an array's binary format names its element type.)
_BINARY_COPY_SCALAR_ONLY: dict[str, str] = dict.fromkeys(["bpchar", "character"], "text")
_NO_BINARY_ARRAY = frozenset({"json", "jsonb", "inet", "cidr"})


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


def binary_copy_type(name: str, *, array: bool) -> str | None:
    """The type name a binary COPY declares for built-in type *name* (normalised), or None.

    None means psycopg cannot write the type in binary: the query must use a text COPY.
    """
    name = name.lower()
    if not array:
        return _BINARY_COPY.get(name) or _BINARY_COPY_SCALAR_ONLY.get(name)
    element = _BINARY_COPY.get(name)
    return f"{element}[]" if element and element not in _NO_BINARY_ARRAY else None


def imported(py_type: str, module: str | None) -> PyType:
    """A user-given type: a builtin (``str``), a dotted path, or a name from ``module``."""
    if module:
        return PyType(py_type, frozenset({(module, py_type.split(".")[0])}))
    if "." not in py_type:
        return PyType(py_type)
    module, _, name = py_type.rpartition(".")
    return PyType(name, frozenset({(module, name)}))
