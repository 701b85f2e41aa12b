"""What to generate, as small Structs the renderers print; and the models plan.

`plan_models` (here) and `codegen.query_plan.plan_queries` turn sqlc's catalog and
queries into these Structs; every check that can fail happens while planning, so
rendering never raises.
"""

from __future__ import annotations

import msgspec

from codex_db.codegen import naming
from codex_db.codegen.errors import CodegenError
from codex_db.codegen.orders import Orders
from codex_db.codegen.pgtypes import PyType
from codex_db.codegen.protocol import Catalog, Column, Identifier
from codex_db.codegen.resolver import SKIPPED_SCHEMAS, TypeResolver

__all__ = [
    "EnumDef",
    "Field",
    "Group",
    "ModelDef",
    "Param",
    "Part",
    "QueryDef",
    "Result",
    "RowDef",
    "is_void",
    "plan_models",
    "row_def",
]


class Field(msgspec.Struct, frozen=True):
    """One attribute of a generated Struct; *optional* ones default to ``None``."""

    name: str
    type: PyType
    optional: bool = False


class Part(msgspec.Struct, frozen=True):
    """How one field is built from row cells: a cell, or a slice for an embedded model.

    A *void* cell (a ``void`` function's result, which psycopg loads as ``''``) is
    built as ``None``.
    """

    start: int
    stop: int = -1
    model: str = ""
    nullable: bool = False
    convert: str = ""
    void: bool = False


class Group(msgspec.Struct, frozen=True):
    """How a ``-- group:`` query's rows fold into one Row per parent (`codegen.groups`).

    The Row's field number *field* is the child list, built from cells *start* to *stop*
    with *model*; *key* are the cells of the parent key; *present* is a child cell that
    is NULL only on the LEFT JOIN's empty side, or -1 when the child is always there.
    """

    field: int
    key: list[int]
    start: int
    stop: int
    model: str
    present: int


class RowDef(msgspec.Struct, frozen=True):
    """A Struct class: a table model, a query row or a query's params.

    A grouped query's Row (*group* set) is built by ``from_rows``, from all the rows.
    """

    class_name: str
    fields: list[Field]
    parts: list[Part] = []
    comment: str = ""
    gc: bool = True
    group: Group | None = None

    @property
    def needs_builder(self) -> bool:
        """True when rows need ``from_row`` (embeds, converted JSON, void), not ``Cls(*cells)``."""
        if self.group is not None:
            return False
        return any(part.model or part.convert or part.void for part in self.parts)


class ModelDef(msgspec.Struct, frozen=True):
    """A table or view model, with the catalog columns used to match query results."""

    key: tuple[str, str]
    row: RowDef
    columns: list[Column]


class EnumDef(msgspec.Struct, frozen=True):
    """A StrEnum class for a PostgreSQL enum."""

    class_name: str
    sql_name: str
    members: list[tuple[str, str]]
    comment: str = ""


class Param(msgspec.Struct, frozen=True):
    """A function argument (or params-Struct field) and how it is passed to psycopg.

    *nullable* ones (``T | None``, or ``Any`` for a nullable column) default to None.
    """

    name: str
    type: PyType
    nullable: bool = False


class Result(msgspec.Struct, frozen=True):
    """What a ``:one``/``:many`` query returns: a model, a row Struct or a scalar.

    *make* is the row maker: a class, ``<Class>.from_row``, ``"scalar"`` or ``"void"``
    (one ``void`` column: the function returns None, or a list of None).
    """

    annotation: str
    make: str
    row: RowDef | None = None
    imports: frozenset[tuple[str, str]] = frozenset()


class QueryDef(msgspec.Struct, frozen=True):
    """Everything needed to print one query's constant, classes and functions.

    *one_row* is ``"insert"``, ``"aggregate"`` or ``"constant"`` when a ``:one`` query is proven to
    return exactly one row (see `codegen.cardinality`): its function then returns the
    row, not ``Row | None``, and raises if no row comes back after all.

    *orders* are the sort orders of a query with ``-- order:`` lines
    (`codegen.orders`): one SQL text each, chosen by an enum argument.

    *copy_types* are the column types of a ``:copyfrom`` query that is a binary COPY
    (printed as the ``<CONST>_TYPES`` constant); empty for a text COPY and other commands.
    """

    name: str
    source: str
    func: str
    const: str
    cmd: str
    sql: str
    doc: list[str]
    params: list[Param]
    params_struct: RowDef | None = None
    result: Result | None = None
    one_row: str = ""
    copy_types: list[str] = []
    orders: Orders | None = None

    @property
    def types_const(self) -> str:
        """The name of the constant holding *copy_types*."""
        return self.const + "_TYPES"


def plan_models(catalog: Catalog, resolver: TypeResolver) -> tuple[list[EnumDef], list[ModelDef]]:
    """Enums and table/view models of every user schema, sorted by class name."""
    enums: list[EnumDef] = []
    models: list[ModelDef] = []
    sources: list[tuple[str, str, str]] = []
    for schema in catalog.schemas:
        if schema.name in SKIPPED_SCHEMAS:
            continue
        for enum in schema.enums:
            enums.append(_enum(schema.name, enum.name, enum.vals, enum.comment, resolver))
            sources.append((enums[-1].class_name, "enum", enums[-1].sql_name))
        for table in schema.tables:
            models.append(_model(schema.name, table.rel, table.columns, table.comment, resolver))
            sql_name = _sql_name(schema.name, table.rel.name, resolver)
            sources.append((models[-1].row.class_name, "table or view", sql_name))
    _check_unique(sources)
    return sorted(enums, key=lambda e: e.class_name), sorted(models, key=lambda m: m.row.class_name)


def _enum(schema: str, name: str, vals: list[str], comment: str, resolver: TypeResolver) -> EnumDef:
    members = naming.dedupe(naming.enum_member(v) for v in vals)
    sql_name = _sql_name(schema, name, resolver)
    class_name = resolver.enums[(schema, name)]
    return EnumDef(class_name, sql_name, list(zip(members, vals, strict=True)), comment)


def _model(
    schema: str, rel: Identifier, columns: list[Column], comment: str, resolver: TypeResolver
) -> ModelDef:
    class_name = resolver.class_name(schema, rel.name, plural=True)
    table = Identifier(schema=schema, name=rel.name)
    where = (
        f"table {rel.name}" if schema == resolver.default_schema else f"table {schema}.{rel.name}"
    )
    types = [resolver.resolve(c, f"{where} column {c.name}", table=table) for c in columns]
    row = row_def(class_name, [c.name for c in columns], types, resolver, comment)
    return ModelDef((schema, rel.name), row, columns)


def row_def(
    class_name: str,
    names: list[str],
    types: list[PyType],
    resolver: TypeResolver,
    comment: str = "",
) -> RowDef:
    fields = [
        Field(n, t)
        for n, t in zip(naming.dedupe(map(resolver.field_name, names)), types, strict=True)
    ]
    parts = [
        Part(i, convert=t.annotation if t.convert else "", void=is_void(t))
        for i, t in enumerate(types)
    ]
    gc = not all(resolver.is_safe(t) for t in types)
    return RowDef(class_name, fields, parts, comment, gc)


def is_void(py_type: PyType) -> bool:
    """True for the type of a ``void`` result (``SELECT pg_advisory_lock(...)``)."""
    return py_type.annotation == "None"


def _sql_name(schema: str, name: str, resolver: TypeResolver) -> str:
    """The name the ``rename`` option knows a table or enum by."""
    return name if schema == resolver.default_schema else f"{schema}.{name}"


def _check_unique(sources: list[tuple[str, str, str]]) -> None:
    """Refuse two SQL objects ``(class name, kind, SQL name)`` that get the same class."""
    seen: dict[str, tuple[str, str]] = {}
    for class_name, kind, sql_name in sources:
        if class_name in seen:
            first_kind, first = seen[class_name]
            raise CodegenError(
                f"models.py: two types are named {class_name!r}: {first_kind} {first} and "
                f"{kind} {sql_name}; rename one with the 'rename' option, e.g. "
                f'"rename": {{"{sql_name}": "{class_name}2"}}'
            )
        seen[class_name] = (kind, sql_name)
