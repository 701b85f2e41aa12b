"""Print a queries file as ``<file>.py`` (SQL, classes, sync functions) and ``<file>_async.py``."""

from __future__ import annotations

from codex_db.codegen import _layout
from codex_db.codegen.options import Options
from codex_db.codegen.orders import Orders
from codex_db.codegen.plan import Param, QueryDef, RowDef
from codex_db.codegen.render import Module, header, row_class

__all__ = ["render_async_module", "render_sync_module"]

_WRAPPERS = {
    ("jsonb", False): ("psycopg.types.json", "Jsonb"),
    ("jsonb", True): ("codex_db.dbtx", "maybe_jsonb"),
    ("json", False): ("psycopg.types.json", "Json"),
    ("json", True): ("codex_db.dbtx", "maybe_json"),
}


def render_sync_module(options: Options, version: str, source: str, queries: list[QueryDef]) -> str:
    """``<file>.py``: SQL constants, row and params Structs, and sync functions if enabled."""
    module = Module(options, "models.")
    module.imports.add("typing", "Final")
    for query in queries:
        module.add(_constant(query))
        if query.copy_types:
            module.add(_types_constant(module, query))
    for query in queries:
        if query.orders is not None:
            module.add(_order_enum(module, query, query.orders))
            module.add(_order_mapping(module, query.orders))
        if query.params_struct is not None:
            module.add(_struct(module, query, query.params_struct, is_params=True))
        if query.result is not None and query.result.row is not None:
            module.add(_struct(module, query, query.result.row, is_params=False))
        if options.emit_sync:
            _functions(module, query, is_async=False)
    return module.text(header(version, source), f"Queries of {source}.")


def render_async_module(
    options: Options, version: str, source: str, sync_module: str, queries: list[QueryDef]
) -> str:
    """``<file>_async.py``: async functions reusing the constants and classes of *sync_module*."""
    module = Module(options, "models.")
    shared = f"{options.package}.{sync_module}"
    for query in queries:
        if query.orders is None:
            module.imports.add(shared, query.const)
        else:
            module.imports.add(shared, query.orders.mapping_const)
            module.imports.add(shared, query.orders.enum_class)
        if query.copy_types:
            module.imports.add(shared, query.types_const)
        for row in (query.params_struct, query.result.row if query.result else None):
            if row is not None:
                module.imports.add(shared, row.class_name)
        _functions(module, query, is_async=True)
    return module.text(header(version, source), f"Queries of {source}, async.")


def _constant(query: QueryDef) -> list[str]:
    if query.orders is not None:
        lines: list[str] = []
        for order in query.orders.orders:
            lines += ["", *_text_constant(order.const, order.sql)]
        return lines[1:]
    return _text_constant(query.const, query.sql)


def _text_constant(const: str, sql: str) -> list[str]:
    literal = _layout.string_literal(sql)
    return f"{const}: Final = {literal}{_layout.secret_noqa(const)}".split("\n")


def _order_enum(module: Module, query: QueryDef, sorts: Orders) -> list[str]:
    module.imports.add("enum")
    lines = [
        f"class {sorts.enum_class}(enum.StrEnum):",
        f'    """The sort orders {query.func}() accepts (its ``order`` argument)."""',
        "",
    ]
    return lines + [
        f"    {o.member} = {_layout.string(o.key)}{_layout.secret_noqa(o.member)}"
        for o in sorts.orders
    ]


def _order_mapping(module: Module, sorts: Orders) -> list[str]:
    module.imports.add("typing", "LiteralString")
    head = f"{sorts.mapping_const}: Final[dict[{sorts.enum_class}, LiteralString]] = {{"
    items: list[str | _layout.Group] = [
        f"{sorts.enum_class}.{o.member}: {o.const}" for o in sorts.orders
    ]
    return _layout.lines(_layout.Group(head, items, "}"), "", "", module.options.line_length)


def _types_constant(module: Module, query: QueryDef) -> list[str]:
    names: list[str | _layout.Group] = [_layout.string(t) for t in query.copy_types]
    group = _layout.Group(f"{query.types_const}: Final = (", names, ")", one_tuple=True)
    return _layout.lines(group, "", "", module.options.line_length)


def _wraps_json(query: QueryDef) -> bool:
    """True when a ``:copyfrom`` query's rows need `copy_row`: json in a text COPY.

    A binary COPY dumps each column by its declared type, so json values go as they are.
    """
    return not query.copy_types and any(p.type.json for p in query.params)


def _struct(module: Module, query: QueryDef, row: RowDef, *, is_params: bool) -> list[str]:
    lines = row_class(module, row, kw_only=is_params)
    if is_params and query.cmd == ":copyfrom" and _wraps_json(query):
        module.imports.add("typing", "Any")
        values: list[str | _layout.Group] = [_value(module, p, "self.") for p in query.params]
        group = _layout.Group("return (", values, ")", one_tuple=True)
        lines += ["", "    def copy_row(self) -> tuple[Any, ...]:"]
        lines += _layout.lines(group, "        ", "", module.options.line_length)
    return lines


def _functions(module: Module, query: QueryDef, *, is_async: bool) -> None:
    module.add(_function(module, query, is_async=is_async, stream=False))
    if query.cmd == ":many" and module.options.emit_iterators and not _grouped(query):
        # A parent's Row is complete only after the last row: nothing to stream.
        module.add(_function(module, query, is_async=is_async, stream=True))


def _function(module: Module, query: QueryDef, *, is_async: bool, stream: bool) -> list[str]:
    width = module.options.line_length
    module.imports.add("codex_db.dbtx", "AsyncDBTX" if is_async else "DBTX")
    name = ("iter_" if stream else "") + query.func
    prefix = "async def " if is_async and not stream else "def "
    arguments = _arguments(module, query, is_async)
    if name.startswith("test") and any(" = " in str(a) for a in arguments):
        # ruff's pytest rules take a ``test...`` function for a test (PT028: no defaults).
        module.noqa.add("PT028")
    signature = _layout.Group(
        f"{prefix}{name}(", arguments, f") -> {_returns(module, query, is_async, stream)}"
    )
    lines = _layout.lines(signature, "", ":", width)
    lines += _layout.docstring(query.doc, "    ")
    lines += _body(module, query, is_async and not stream, stream)
    return lines


def _arguments(module: Module, query: QueryDef, is_async: bool) -> list[str | _layout.Group]:
    args: list[str | _layout.Group] = ["conn: AsyncDBTX" if is_async else "conn: DBTX"]
    if query.cmd == ":copyfrom":
        assert query.params_struct is not None
        module.imports.add("collections.abc", "Iterable")
        return [*args, f"rows: Iterable[{query.params_struct.class_name}]"]
    if query.params_struct is not None:
        args.append(f"params: {query.params_struct.class_name}")
        return args + (["*", *_order_argument(query)] if query.orders is not None else [])
    if query.params or query.orders is not None:
        args.append("*")
    for param in query.params:
        module.imports.update(param.type.imports)
        default = " = None" if param.nullable else ""
        args.append(f"{param.name}: {module.annotation(param.type.annotation)}{default}")
    return args + _order_argument(query)


def _order_argument(query: QueryDef) -> list[str | _layout.Group]:
    if query.orders is None:
        return []
    enum_class = query.orders.enum_class
    return [f"order: {enum_class} = {enum_class}.{query.orders.default}"]


def _returns(module: Module, query: QueryDef, is_async: bool, stream: bool) -> str:
    if query.cmd in (":execrows", ":copyfrom"):
        return "int"
    if query.cmd == ":execresult":
        module.imports.add("codex_db.dbtx", "ExecResult")
        return "ExecResult"
    if query.result is None or _discards(query):
        return "None"
    module.imports.update(query.result.imports)
    row = module.annotation(query.result.annotation)
    if stream:
        module.imports.add("collections.abc", "AsyncGenerator" if is_async else "Generator")
        return f"AsyncGenerator[{row}, None]" if is_async else f"Generator[{row}, None, None]"
    if query.cmd == ":many":
        return f"list[{row}]"
    return row if query.one_row or _has_none(row) else f"{row} | None"


def _grouped(query: QueryDef) -> bool:
    """True for a ``-- group:`` query: its Rows are built by ``from_rows`` from all rows."""
    return (
        query.result is not None
        and query.result.row is not None
        and (query.result.row.group is not None)
    )


def _has_none(annotation: str) -> bool:
    """True when None is already a value of *annotation* (``None`` itself: void)."""
    return annotation.endswith(" | None") or annotation in ("Any", "None")


def _discards(query: QueryDef) -> bool:
    """True for a ``:one`` void query: it is run for its effect and returns None.

    psycopg loads ``void`` as ``''``, and the row carries nothing else, so the function
    executes the statement and returns nothing (a ``:many`` one returns a None per row).
    """
    return query.cmd == ":one" and query.result is not None and query.result.make == "void"


def _body(module: Module, query: QueryDef, awaited: bool, stream: bool) -> list[str]:
    width = module.options.line_length
    aw = "await " if awaited else ""
    if query.cmd == ":copyfrom":
        assert query.params_struct is not None
        if _wraps_json(query):
            cells = f"map({query.params_struct.class_name}.copy_row, rows)"
        else:
            cells = "map(msgspec.structs.astuple, rows)"
            module.imports.add("msgspec")
        copy_args: list[str | _layout.Group] = [query.const, cells]
        if query.copy_types:
            copy_args.append(f"types={query.types_const}")
        call = _layout.Group(f"return {aw}conn.copy_rows(", copy_args, ")")
        return _layout.lines(call, "    ", "", width)
    values: list[str | _layout.Group] = [
        _value(module, p, "params." if query.params_struct else "") for p in query.params
    ]
    args: list[str | _layout.Group] = [
        _text(query),
        _layout.Group("(", values, ")", one_tuple=True),
    ]
    method, keyword = _method(module, query, stream)
    if _grouped(query):
        assert query.result is not None
        module.imports.add("codex_db.dbtx", "cells")
        call = _layout.Group(f"{aw}conn.{method}(", [*args, "cells"], ")")
        outer = _layout.Group(f"return {query.result.make}(", [call], ")")
        return _layout.lines(outer, "    ", "", width)
    if query.result is not None and not _discards(query):
        make = module.annotation(query.result.make)
        if make in ("scalar", "void"):
            module.imports.add("codex_db.dbtx", make)
        args.append(make)
    check = _checked(module, query)
    if check and query.result is not None:
        # scalar() returns Any: annotate the variable so that mypy still checks the return.
        row = module.annotation(query.result.annotation)
        keyword = f"{check}: {row} | None = " if query.result.make == "scalar" else f"{check} = "
    call = _layout.Group(f"{keyword}{'' if stream else aw}conn.{method}(", args, ")")
    lines = _layout.lines(call, "    ", "", width)
    if check:
        raise_ = _layout.Group("raise RuntimeError(", [_layout.string(_no_row_message(query))], ")")
        lines += [f"    if {check} is None:", *_layout.lines(raise_, "        ", "", width)]
        lines.append(f"    return {check}")
    return lines


def _text(query: QueryDef) -> str:
    """The SQL argument: the constant, or the one of the chosen order (never caller text)."""
    if query.orders is None:
        return query.const
    return f"{query.orders.mapping_const}[{query.orders.enum_class}(order)]"


def _checked(module: Module, query: QueryDef) -> str:
    """The variable holding the row when the function must check it exists, else ``""``.

    Only ``:one`` queries proven to return one row are checked, and only when None is not
    a value of the result: a scalar that may be NULL is returned as is, None meaning NULL.
    """
    if query.cmd != ":one" or not query.one_row or query.result is None:
        return ""
    if _has_none(module.annotation(query.result.annotation)):
        return ""
    taken = {p.name for p in query.params} if query.params_struct is None else set()
    name = "row"
    while name in taken:
        name += "_"
    return name


def _no_row_message(query: QueryDef) -> str:
    if query.one_row == "insert":
        return f"{query.name} returned no row: did a trigger or a rule skip the INSERT?"
    return f"{query.name} returned no row"


def _method(module: Module, query: QueryDef, stream: bool) -> tuple[str, str]:
    if stream:
        return "stream", "return "
    if _discards(query):
        return "execute", ""
    methods = {
        ":one": ("fetch_one", "return "),
        ":many": ("fetch_all", "return "),
        ":exec": ("execute", ""),
        ":execrows": ("execute", "return "),
        ":execresult": ("execute_result", "return "),
    }
    return methods[query.cmd]


def _value(module: Module, param: Param, owner: str) -> str:
    if not param.type.json:
        return owner + param.name
    module_name, wrapper = _WRAPPERS[(param.type.json, param.nullable)]
    module.imports.add(module_name, wrapper)
    return f"{wrapper}({owner}{param.name})"
