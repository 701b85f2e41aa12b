"""Plan each query: its SQL text, parameters, params Struct and result shape."""

from __future__ import annotations

import re

import msgspec

from codex_db.codegen import cardinality, groups, joins, naming, orders
from codex_db.codegen.errors import CodegenError
from codex_db.codegen.pgtypes import PyType
from codex_db.codegen.plan import (
    Field,
    ModelDef,
    Param,
    Part,
    QueryDef,
    Result,
    RowDef,
    is_void,
    row_def,
)
from codex_db.codegen.protocol import Column, Identifier, Query
from codex_db.codegen.resolver import MODELS_PREFIX, TypeResolver

__all__ = ["plan_queries"]

_SUPPORTED = frozenset({":one", ":many", ":exec", ":execrows", ":execresult", ":copyfrom"})
_ADVICE = {
    ":execlastid": "PostgreSQL has no last insert id: add 'RETURNING id' and use :one",
    ":batchexec": "run an :exec query in a loop inside a transaction, pass arrays "
    "(unnest(@ids::type[])) to one :execrows query, or use :copyfrom for bulk inserts",
    ":batchmany": "use one :many query with = ANY(@ids::type[])",
    ":batchone": "use one :many query with = ANY(@ids::type[]), "
    "or INSERT ... SELECT unnest(...) RETURNING with :many",
}


def plan_queries(
    queries: list[Query], models: list[ModelDef], resolver: TypeResolver
) -> list[QueryDef]:
    """Plan every query, collecting all errors before raising them together."""
    by_key = {m.key: m for m in models}
    errors: list[str] = []
    plans: list[QueryDef] = []
    for query in sorted(queries, key=lambda q: (q.filename, q.name)):
        try:
            plans.append(_QueryPlanner(query, by_key, resolver).plan())
        except CodegenError as exc:
            errors.append(str(exc))
    errors += _clashing_types_constants(plans)
    errors += _clashing_order_constants(plans)
    if errors:
        raise CodegenError("\n".join(errors))
    return plans


def _clashing_types_constants(plans: list[QueryDef]) -> list[str]:
    """Errors for ``<CONST>_TYPES`` constants that are another query's constant."""
    consts = {(p.source, p.const): p.name for p in plans}
    return [
        f"{p.source}: {p.name}: the constant {p.types_const} (its COPY column types) is also "
        f"the constant of query {consts[(p.source, p.types_const)]}; rename one of the queries"
        for p in plans
        if p.copy_types and (p.source, p.types_const) in consts
    ]


def _clashing_order_constants(plans: list[QueryDef]) -> list[str]:
    """Errors for sort-order constants that are another query's constant."""
    consts = {(p.source, p.const): p.name for p in plans}
    return [
        f"{p.source}: {p.name}: the constant {const} (an '-- order:' text) is also the"
        f" constant of query {consts[(p.source, const)]}; rename one of the queries"
        for p in plans
        if p.orders is not None
        for const in [p.orders.mapping_const, *(o.const for o in p.orders.orders)]
        if const != p.const and (p.source, const) in consts
    ]


class _QueryPlanner:
    """Plans one query; errors name the file and query."""

    def __init__(
        self, query: Query, models: dict[tuple[str, str], ModelDef], resolver: TypeResolver
    ) -> None:
        self.query = query
        self.models = models
        self.resolver = resolver
        self.where = f"{query.filename}: {query.name}"

    def plan(self) -> QueryDef:
        q = self.query
        if q.cmd not in _SUPPORTED:
            advice = _ADVICE.get(q.cmd, "supported: " + " ".join(sorted(_SUPPORTED)))
            raise CodegenError(f"{self.where}: {q.cmd} is not supported on PostgreSQL; {advice}")
        params = self._params()
        struct = self._params_struct(params)
        copy_types = self._copy_types(params) if q.cmd == ":copyfrom" else []
        sql = self._copy_sql(binary=bool(copy_types)) if q.cmd == ":copyfrom" else self._sql()
        one_row = self._one_row()
        comments, order_lines = orders.split_comments(q.comments)
        comments, group_lines = groups.split_comments(comments)
        group = groups.parse_lines(self.where, q.cmd, group_lines)
        result = self._result(one_row, group) if q.cmd in (":one", ":many") else None
        sorts = self._orders(order_lines, params)
        doc = _docstring(comments)
        func, const = naming.identifier(naming.snake_name(q.name)), naming.constant_name(q.name)
        kind = one_row.kind if one_row else ""
        return QueryDef(
            q.name,
            q.filename,
            func,
            const,
            q.cmd,
            sql,
            doc,
            params,
            struct,
            result,
            kind,
            copy_types,
            sorts,
        )

    def _orders(self, found: list[tuple[str, str]], params: list[Param]) -> orders.Orders | None:
        sorts = orders.plan_orders(self.where, self.query.name, self.query.cmd, self._text(), found)
        if sorts is not None and any(p.name == "order" for p in params):
            raise CodegenError(
                f"{self.where}: a parameter named 'order' clashes with the sort order argument;"
                " rename the parameter"
            )
        return sorts

    def _one_row(self) -> cardinality.OneRow | None:
        """The proof that a ``:one`` query returns exactly one row, if there is one."""
        if self.query.cmd != ":one" or not self.query.columns:
            return None
        proof = cardinality.one_row(self.query.text)
        width = len(self.query.columns)
        if proof is not None and proof.kind != "insert" and proof.width != width:
            return None  # sqlc and the tokenizer disagree on the items: stay optional
        return proof

    def _params(self) -> list[Param]:
        params = self.query.params
        names = naming.dedupe(self._param_name(p.number, p.column) for p in params)
        types = [
            self.resolver.resolve(p.column, f"{self.where}: parameter {n}", param=True)
            for n, p in zip(names, params, strict=True)
        ]
        nullable = [
            t.annotation.endswith(" | None") or (not p.column.not_null and t.annotation == "Any")
            for t, p in zip(types, params, strict=True)
        ]
        return [Param(n, t, null) for n, t, null in zip(names, types, nullable, strict=True)]

    def _param_name(self, number: int, column: Column) -> str:
        return self.resolver.field_name(column.name) if column.name else f"p{number}"

    def _params_struct(self, params: list[Param]) -> RowDef | None:
        limit = self.resolver.options.query_parameter_limit
        if self.query.cmd != ":copyfrom" and (not params or len(params) <= limit):
            return None
        types = [p.type for p in params]
        gc = not all(self.resolver.is_safe(t) for t in types)
        fields = [Field(p.name, p.type, optional=p.nullable) for p in params]
        return RowDef(naming.pascal_name(self.query.name) + "Params", fields, gc=gc)

    def _sql(self) -> str:
        return f"-- name: {self.query.name} {self.query.cmd}\n{self._text()}\n"

    def _text(self) -> str:
        """sqlc's text with ``sqlc.slice`` rewritten for PostgreSQL."""
        text = self.query.text
        for param in self.query.params:
            if param.column.is_sqlc_slice:
                text = self._rewrite_slice(text, param.number)
        return text

    def _rewrite_slice(self, text: str, number: int) -> str:
        pattern = re.compile(rf"(\bNOT\s+)?\bIN\s*\(\s*\${number}\s*\)", re.IGNORECASE)
        rewritten, count = pattern.subn(
            lambda m: f"<> ALL(${number})" if m.group(1) else f"= ANY(${number})", text
        )
        if count != 1:
            raise CodegenError(
                f"{self.where}: sqlc.slice() is only supported as 'column IN (sqlc.slice(x))' "
                "on PostgreSQL; "
                f"write 'column = ANY(@x::type[])' instead"
            )
        return rewritten

    def _copy_types(self, params: list[Param]) -> list[str]:
        """The column types of a binary COPY, or ``[]`` when some column needs a text COPY."""
        types = [
            self.resolver.copy_type(p.column, param.type)
            for p, param in zip(self.query.params, params, strict=True)
        ]
        return [t for t in types if t is not None] if None not in types else []

    def _copy_sql(self, *, binary: bool) -> str:
        target = self.query.insert_into_table
        if target is None or not target.name:
            raise CodegenError(
                f"{self.where}: :copyfrom needs an INSERT INTO table (...) VALUES (...) query"
            )
        table = (
            _quote(target.name)
            if not target.schema
            else f"{_quote(target.schema)}.{_quote(target.name)}"
        )
        columns = ", ".join(
            _quote(p.column.original_name or p.column.name) for p in self.query.params
        )
        options = " (FORMAT BINARY)" if binary else ""
        return (
            f"-- name: {self.query.name} :copyfrom\nCOPY {table} ({columns}) FROM STDIN{options}\n"
        )

    def _result(self, one_row: cardinality.OneRow | None, group: groups.GroupLine | None) -> Result:
        columns = self.query.columns
        if not columns:
            raise CodegenError(
                f"{self.where}: {self.query.cmd} query returns no columns; use :exec or :execrows"
            )
        if one_row is not None and one_row.nullable:
            # sqlc types sum(), max()... NOT NULL, but they are NULL over no rows.
            columns = [
                msgspec.structs.replace(c, not_null=False) if i in one_row.nullable else c
                for i, c in enumerate(columns)
            ]
        if group is not None or any(c.embed_table for c in columns):
            return self._embed_result(columns, group)
        types = [self.resolver.resolve(c, f"{self.where}: column {c.name or '?'}") for c in columns]
        if len(columns) == 1 and is_void(types[0]):
            return Result("None", "void")
        if len(columns) == 1 and not types[0].convert:
            return Result(types[0].annotation, "scalar", imports=types[0].imports)
        model = self._matching_model(columns, types)
        if model is not None:
            ref = MODELS_PREFIX + model.row.class_name
            return Result(ref, ref + ".from_row" if model.row.needs_builder else ref)
        row = row_def(
            naming.pascal_name(self.query.name) + "Row",
            [c.name for c in columns],
            types,
            self.resolver,
        )
        return _row_result(row)

    def _matching_model(self, columns: list[Column], types: list[PyType]) -> ModelDef | None:
        tables = {(self.resolver.schema_of(c.table), c.table.name) for c in columns if c.table}
        if len(tables) != 1 or any(c.table is None for c in columns):
            return None
        model = self.models.get(tables.pop())
        if model is None or len(model.columns) != len(columns):
            return None
        same = all(
            c.name == m.name and f.type.annotation == t.annotation
            for c, m, f, t in zip(columns, model.columns, model.row.fields, types, strict=True)
        )
        return model if same else None

    def _embed_result(self, columns: list[Column], group: groups.GroupLine | None) -> Result:
        nullable = self._nullable_embeds(columns)
        names: list[str] = []
        types: list[PyType] = []
        parts: list[Part] = []
        embeds: list[groups.Embed] = []
        plain: list[tuple[int, int, str, bool]] = []
        cell = 0
        occurrences: dict[tuple[str, str], int] = {}
        for index, column in enumerate(columns):
            if column.embed_table is None:
                py_type = self.resolver.resolve(column, f"{self.where}: column {column.name}")
                plain.append((len(names), cell, column.name, column.not_null))
                names.append(column.name)
                types.append(py_type)
                convert = py_type.annotation if py_type.convert else ""
                parts.append(Part(cell, convert=convert, void=is_void(py_type)))
                cell += 1
                continue
            model = self._embedded(column.embed_table)
            ref = MODELS_PREFIX + model.row.class_name
            outer = index in nullable
            stop = cell + len(model.columns)
            occurrence = occurrences.get(model.key, 0)
            occurrences[model.key] = occurrence + 1
            qualifier = self._embed_qualifier(model.key, occurrence)
            qualifiers = frozenset({model.key[1].lower(), *([qualifier] if qualifier else [])})
            embeds.append(groups.Embed(len(names), model, cell, stop, outer, qualifiers))
            names.append(naming.snake_name(model.row.class_name))
            types.append(PyType(ref + (" | None" if outer else "")))
            parts.append(
                Part(cell, stop, ref + (".from_row" if model.row.needs_builder else ""), outer)
            )
            cell = stop
        fields = [
            Field(n, t)
            for n, t in zip(naming.dedupe(map(self.resolver.field_name, names)), types, strict=True)
        ]
        gc = any(p.model for p in parts) or not all(self.resolver.is_safe(t) for t in types)
        row = RowDef(naming.pascal_name(self.query.name) + "Row", fields, parts, gc=gc)
        if group is not None:
            row = groups.plan_group(self.where, group, row, embeds, plain)
            return Result(row.class_name, row.class_name + ".from_rows", row)
        return _row_result(row)

    def _nullable_embeds(self, columns: list[Column]) -> set[int]:
        """Indexes of the embeds (in *columns*) that may be all-NULL: outer-joined ones.

        `joins.from_items` reads the FROM clause; a table reached only through inner
        (or cross) joins is present in every row. When the clause cannot be read, or an
        embed cannot be matched to exactly one table in it, the embed is nullable.
        """
        embeds = [i for i, c in enumerate(columns) if c.embed_table is not None]
        items = joins.from_items(self.query.text)
        if items is None:
            return set(embeds)
        nullable: set[int] = set()
        seen: dict[tuple[str, str], int] = {}
        for index in embeds:
            table = columns[index].embed_table
            assert table is not None
            key = (self.resolver.schema_of(table), table.name)
            candidates = [
                item
                for item in items
                if (item.schema or self.resolver.default_schema, item.name) == key
            ]
            if len(candidates) > 1:
                occurrence = seen.get(key, 0)
                seen[key] = occurrence + 1
                qualifier = self._embed_qualifier(key, occurrence)
                candidates = [item for item in candidates if item.qualifier == qualifier]
            if len(candidates) != 1 or candidates[0].nullable:
                nullable.add(index)
        return nullable

    def _embed_qualifier(self, key: tuple[str, str], occurrence: int) -> str | None:
        """The alias sqlc wrote before the *occurrence*-th expansion of the embed of *key*.

        sqlc expands ``sqlc.embed(a)`` to ``a.col1, a.col2, ...`` in ``query.text``.
        """
        model = self.models.get(key)
        if model is None:
            return None
        names = [f'(?:"{re.escape(c.name)}"|{re.escape(c.name)}\\b)' for c in model.columns]
        qualifier = r'(?P<q>"(?:[^"]|"")*"|[A-Za-z_][\w$]*)\.'
        pattern = r'(?<![\w$."])' + qualifier + names[0]
        pattern += "".join(rf"\s*,\s*(?P=q)\.{name}" for name in names[1:])
        found = [m.group("q") for m in re.finditer(pattern, self.query.text)]
        if occurrence >= len(found):
            return None
        raw = found[occurrence]
        return raw[1:-1].replace('""', '"') if raw.startswith('"') else raw.lower()

    def _embedded(self, table: Identifier) -> ModelDef:
        key = (self.resolver.schema_of(table), table.name)
        model = self.models.get(key)
        if model is None:
            raise CodegenError(f"{self.where}: sqlc.embed() of unknown table {key[0]}.{key[1]}")
        return model


def _row_result(row: RowDef) -> Result:
    return Result(
        row.class_name, row.class_name + ".from_row" if row.needs_builder else row.class_name, row
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _docstring(comments: list[str]) -> list[str]:
    lines = [c[1:] if c.startswith(" ") else c for c in comments]
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines
