"""Resolve the Python type of a column or parameter: overrides, built-ins, enums, fallbacks."""

from __future__ import annotations

import msgspec

from codex_db.codegen import naming
from codex_db.codegen.errors import CodegenError
from codex_db.codegen.options import Options, Override
from codex_db.codegen.pgtypes import (
    PyType,
    binary_copy_type,
    builtin_type,
    imported,
    normalize,
)
from codex_db.codegen.protocol import Catalog, Column, Identifier

__all__ = ["MODELS_PREFIX", "SKIPPED_SCHEMAS", "TypeResolver"]

MODELS_PREFIX = "@"
"""Stands for ``models.`` in annotations; models.py itself renders it as nothing."""

SKIPPED_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_temp"})
_PSEUDO = frozenset(
    {"anyarray", "anyelement", "any", "record", "unknown", "anyenum", "anynonarray"}
)
_NO_CONVERT = frozenset({"Any", "object"})
_SAFE = frozenset(
    {"int", "float", "str", "bool", "bytes", "Decimal", "UUID", "date", "time", "datetime",
     "timedelta", "Inet", "Cidr", "None"}
)  # fmt: skip


class TypeResolver:
    """Knows the catalog's enums and the options' overrides; collects warnings.

    Use one per request: `warnings` accumulates the unknown-type messages, and
    `errors` the ones that ``strict_types`` turns into failures.
    """

    def __init__(self, catalog: Catalog, options: Options) -> None:
        self.default_schema = catalog.default_schema or "public"
        self.options = options
        self.enums: dict[tuple[str, str], str] = {}
        self.composites: set[tuple[str, str]] = set()
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self._json = _json_type(options.json_type)
        for schema in catalog.schemas:
            if schema.name in SKIPPED_SCHEMAS:
                continue
            for enum in schema.enums:
                self.enums[(schema.name, enum.name)] = self.class_name(
                    schema.name, enum.name, plural=False
                )
            self.composites.update((schema.name, c.name) for c in schema.composite_types)

    def class_name(self, schema: str, name: str, *, plural: bool) -> str:
        """Class name of a table (singular unless ``emit_exact_table_names``) or enum."""
        renamed = self.options.rename.get(
            name if not schema or schema == self.default_schema else f"{schema}.{name}"
        )
        if renamed:
            return renamed
        base = name if not plural or self.options.emit_exact_table_names else naming.singular(name)
        prefix = "" if schema in ("", self.default_schema) else f"{schema}_"
        return naming.class_name(naming.pascal_name(prefix + base), "Row" if plural else "Enum")

    def schema_of(self, ident: Identifier | None) -> str:
        """The schema of a table reference, with sqlc's ``""`` meaning the default one."""
        return (ident.schema if ident else "") or self.default_schema

    def resolve(
        self, column: Column, where: str, *, table: Identifier | None = None, param: bool = False
    ) -> PyType:
        """The full annotation of *column*: element type, list nesting and ``| None``.

        Array elements of results are ``T | None`` (PostgreSQL cannot declare them NOT
        NULL) unless the ``nullable_array_elements`` option is off; those of a *param*
        are ``T``: ``list`` is invariant, so ``list[T | None]`` would refuse a ``list[T]``.
        """
        table = table or column.table
        override = self._column_override(column, table)
        nullable = not column.not_null
        if override is not None and override.nullable is not None:
            nullable = override.nullable
        element = self._element(column, where, override, nullable, param)
        null_elements = self.options.nullable_array_elements and not param
        return _wrap(element, _dims(column), nullable, null_elements=null_elements)

    def copy_type(self, column: Column, py_type: PyType) -> str | None:
        """The type a binary COPY declares for *column* (resolved as *py_type*), or None.

        None when psycopg has no binary dumper for it, or when an override gave it a
        Python type the type's dumper may not take (json/jsonb take anything msgspec
        encodes). Enums are declared ``text``: their binary format is the label.
        """
        schema, name = normalize(*_type_parts(column))
        array = _dims(column) > 0
        builtin = builtin_type(name, self._json) if not schema else None
        if builtin is None:
            is_enum = (schema or self.default_schema, name) in self.enums
            return "text" if is_enum and not array and py_type.enum else None
        if not builtin.json:
            expected = _wrap(builtin, _dims(column), nullable=False).annotation
            if py_type.annotation.removesuffix(" | None") != expected:
                return None  # an override: its values may not suit the binary dumper
        return binary_copy_type(name, array=array)

    def field_name(self, name: str) -> str:
        """A Python identifier for a column or parameter name, after ``rename``."""
        return naming.identifier(self.options.rename.get(name, name))

    def is_safe(self, py_type: PyType) -> bool:
        """True when values of this type cannot take part in a reference cycle (``gc=False``)."""
        if py_type.enum:
            return "[" not in py_type.annotation
        return all(part in _SAFE for part in py_type.annotation.split(" | "))

    def _element(
        self, column: Column, where: str, override: Override | None, nullable: bool, param: bool
    ) -> PyType:
        schema, name = normalize(*(_type_parts(column)))
        if override is None:
            override = self._type_override(schema, name, nullable)
        builtin = builtin_type(name, self._json) if not schema else None
        if override is not None:
            found = imported(override.py_type, override.import_)
            if builtin is not None and builtin.json:
                convert = found.annotation not in _NO_CONVERT
                return msgspec.structs.replace(found, json=builtin.json, convert=convert)
            return found
        if builtin is not None:
            return builtin
        return self._user_type(schema, name, where, param)

    def _user_type(self, schema: str, name: str, where: str, param: bool) -> PyType:
        key = (schema or self.default_schema, name)
        if key in self.enums:
            return PyType(MODELS_PREFIX + self.enums[key], enum=True)
        qualified = name if not schema else f"{schema}.{name}"
        kind = "composite type" if key in self.composites else "unknown type"
        fix = (
            f'add an override such as {{"db_type": "{qualified}", "py_type": "str"}} '
            "to the plugin options"
            if name not in _PSEUDO
            else "cast the parameter in the query, e.g. @after::int8"
            if param
            else "cast the expression in the query, e.g. max(created_at)::timestamptz"
        )
        typed = "" if self.options.strict_types else " is typed Any"
        message = f"{where}: {kind} {qualified!r}{typed}; {fix}"
        (self.errors if self.options.strict_types else self.warnings).append(message)
        hint = "cast it in the query" if name in _PSEUDO else "add an override"
        note = f"{kind} {qualified}: {hint}"
        return PyType("Any", frozenset({("typing", "Any")}), note=note)

    def _column_override(self, column: Column, table: Identifier | None) -> Override | None:
        if table is None or not table.name:
            return None
        name = column.original_name or column.name
        schema = self.schema_of(table)
        keys = {f"{schema}.{table.name}.{name}"}
        if schema == self.default_schema:
            keys.add(f"{table.name}.{name}")
        for override in self.options.overrides:
            if override.column in keys:
                return override
        return None

    def _type_override(self, schema: str, name: str, nullable: bool) -> Override | None:
        for override in self.options.overrides:
            if override.db_type is None:
                continue
            if override.nullable is not None and override.nullable != nullable:
                continue
            o_schema, o_name = normalize("", override.db_type)
            if (o_schema or self.default_schema, o_name) == (schema or self.default_schema, name):
                return override
            if not schema and not o_schema and o_name.lower() == name.lower():
                return override
        return None


def _type_parts(column: Column) -> tuple[str, str]:
    if column.type is None:
        raise CodegenError(f"column {column.name!r} has no type")
    return column.type.schema, column.type.name


def _dims(column: Column) -> int:
    if column.is_sqlc_slice:
        return 1
    return max(column.array_dims, 1) if column.is_array else 0


def _wrap(element: PyType, dims: int, nullable: bool, *, null_elements: bool = False) -> PyType:
    annotation = element.annotation
    if dims and null_elements and annotation not in ("Any", "None"):
        annotation += " | None"
    for _ in range(dims):
        annotation = f"list[{annotation}]"
    if nullable and annotation not in ("Any", "None"):
        annotation += " | None"
    json = element.json if not dims else ""
    return msgspec.structs.replace(element, annotation=annotation, json=json)


def _json_type(json_type: str) -> PyType:
    if json_type == "Any":
        return PyType("Any", frozenset({("typing", "Any")}))
    found = imported(json_type, None)
    return msgspec.structs.replace(found, convert=found.annotation not in _NO_CONVERT)
