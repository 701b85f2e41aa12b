"""Plugin options: ``plugin_options`` merged over ``global_options``, validated strictly."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from codex_db.codegen.errors import CodegenError

__all__ = ["Options", "Override", "parse_options"]

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class Override(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Replace the Python type of a database type or of one column.

    Give exactly one of ``db_type`` (``"email_address"``, ``"pg_catalog.int8"``,
    ``"billing.money"``) or ``column`` (``"table.column"`` or
    ``"schema.table.column"``). ``py_type`` is a builtin (``str``) or a dotted path
    (``app.types.Profile``, imported as ``from app.types import Profile``); ``import``
    names the module explicitly when ``py_type`` is a bare name. With ``db_type``,
    ``nullable`` restricts the override to columns of that nullability; with
    ``column`` it sets the column's nullability.
    """

    py_type: str
    db_type: str | None = None
    column: str | None = None
    nullable: bool | None = None
    import_: str | None = msgspec.field(default=None, name="import")


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Every option the plugin accepts, from ``options:`` of the codegen entry in sqlc.yaml.

    Top-level ``options: {<plugin name>: {...}}`` in sqlc.yaml arrive as global options;
    the codegen entry's options override them key by key.

    - ``package`` (required): import path of the output package, e.g. ``app.db``.
    - ``emit_sync`` (true) / ``emit_async`` (false): write ``<file>.py`` functions and/or
      ``<file>_async.py``. SQL constants and Structs always live in ``<file>.py``.
    - ``emit_iterators`` (false): also write ``iter_<query>`` streaming generators for
      every ``:many`` query.
    - ``emit_exact_table_names`` (false): ``users`` gives ``Users``, not ``User``.
    - ``query_parameter_limit`` (4): queries with more parameters take one
      ``<Query>Params`` Struct instead of keyword arguments (0: always a Struct).
    - ``json_type`` (``Any``): Python type of json/jsonb values; anything but ``Any`` or
      ``object`` is converted with ``msgspec.convert`` on read.
    - ``nullable_array_elements`` (true): array elements of results are ``T | None``,
      because PostgreSQL cannot declare them NOT NULL and psycopg returns NULL elements
      as None. Turn it off to type them ``T`` when every array of the schema is known
      free of NULLs (e.g. ``CHECK (array_position(tags, NULL) IS NULL)``): nothing
      checks it, and a NULL element then surprises the caller. Parameters' elements are
      always ``T``.
    - ``strict_types`` (false): unknown types (domains, composites, extension types) are
      errors instead of ``Any`` with a warning.
    - ``overrides``: see `Override`. ``rename``: SQL name (column, parameter, table or
      enum, ``schema.name`` outside the default schema) to Python name.
    - ``line_length`` (88) and ``known_first_party`` (the package's top level): match
      the project's ruff settings so the output passes ``ruff format --check`` and
      ``ruff check`` (E501/I001) unchanged.
    """

    package: str = ""
    emit_sync: bool = True
    emit_async: bool = False
    emit_iterators: bool = False
    emit_exact_table_names: bool = False
    query_parameter_limit: int = 4
    json_type: str = "Any"
    nullable_array_elements: bool = True
    strict_types: bool = False
    overrides: list[Override] = []
    rename: dict[str, str] = {}
    line_length: int = 88
    known_first_party: list[str] = []

    @property
    def first_party(self) -> list[str]:
        """Top-level packages ruff's isort treats as first-party (default: the output's)."""
        return self.known_first_party or [self.package.split(".")[0]]


_VALID = sorted(f.encode_name for f in msgspec.structs.fields(Options))


def parse_options(plugin_options: bytes, global_options: bytes) -> Options:
    """Merge the codegen entry's options over the top-level ones and validate them.

    Raises:
        CodegenError: an unknown key, a value of the wrong type or a bad override.
    """
    merged = {**_load(global_options, "options"), **_load(plugin_options, "codegen options")}
    unknown = sorted(set(merged) - set(_VALID))
    if unknown:
        raise CodegenError(
            f"unknown option {', '.join(map(repr, unknown))}; valid options: {', '.join(_VALID)}"
        )
    try:
        options = msgspec.convert(merged, Options)
    except msgspec.ValidationError as exc:
        raise CodegenError(f"invalid option: {exc}") from None
    _validate(options)
    return options


def _load(raw: bytes, where: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    value = msgspec.json.decode(raw)
    if not isinstance(value, dict):
        raise CodegenError(f"{where} must be a mapping, got {type(value).__name__}")
    return value


def _validate(options: Options) -> None:
    if options.package and not _DOTTED.match(options.package):
        raise CodegenError(
            f"option 'package' must be a dotted module path, got {options.package!r}"
        )
    if not options.package:
        raise CodegenError(
            "option 'package' is required: the import path of the output package, e.g. 'app.db'"
        )
    if not (options.emit_sync or options.emit_async):
        raise CodegenError(
            "options 'emit_sync' and 'emit_async' are both false: nothing to generate"
        )
    if options.line_length < 60:
        raise CodegenError("option 'line_length' must be at least 60 (use ruff's line-length)")
    if options.query_parameter_limit < 0:
        raise CodegenError("option 'query_parameter_limit' must be >= 0")
    if not _DOTTED.match(options.json_type):
        raise CodegenError(
            f"option 'json_type' must be a name or dotted path, got {options.json_type!r}"
        )
    for index, override in enumerate(options.overrides):
        _validate_override(index, override)


def _validate_override(index: int, override: Override) -> None:
    where = f"option 'overrides[{index}]'"
    if (override.db_type is None) == (override.column is None):
        raise CodegenError(f"{where} needs exactly one of 'db_type' or 'column'")
    if override.column is not None and override.column.count(".") not in (1, 2):
        raise CodegenError(
            f"{where}: 'column' must be 'table.column' or 'schema.table.column', "
            f"got {override.column!r}"
        )
    if not _DOTTED.match(override.py_type):
        raise CodegenError(
            f"{where}: 'py_type' must be a name or dotted path, got {override.py_type!r}"
        )
    if override.import_ is not None and not _DOTTED.match(override.import_):
        raise CodegenError(f"{where}: 'import' must be a module path, got {override.import_!r}")
