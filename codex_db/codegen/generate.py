"""Turn a decoded `GenerateRequest` into generated files: the plugin's whole job."""

from __future__ import annotations

import keyword
import re
import sys
from itertools import groupby
from typing import TextIO

from codex_db.codegen.errors import CodegenError
from codex_db.codegen.options import Options, parse_options
from codex_db.codegen.plan import QueryDef, plan_models
from codex_db.codegen.protocol import Catalog, File, GenerateRequest
from codex_db.codegen.query_plan import plan_queries
from codex_db.codegen.render import render_init, render_models
from codex_db.codegen.render_queries import render_async_module, render_sync_module
from codex_db.codegen.resolver import TypeResolver

__all__ = ["generate"]

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TAKEN = frozenset({"models", "__init__"})


def generate(request: GenerateRequest, warnings: TextIO = sys.stderr) -> list[File]:
    """Generate ``__init__.py``, ``models.py`` and one or two modules per queries file.

    Unknown-type warnings go to *warnings* (sqlc shows a plugin's stderr only when it
    fails, so they are also repeated in errors under ``strict_types``).

    Raises:
        CodegenError: a bad option, an unsupported query, or an unknown type in strict mode.
    """
    if request.settings is not None and request.settings.engine not in ("", "postgresql"):
        raise CodegenError(
            f"engine {request.settings.engine!r} is not supported; this plugin targets postgresql"
        )
    options = parse_options(request.plugin_options, request.global_options)
    catalog = request.catalog or Catalog()
    resolver = TypeResolver(catalog, options)
    enums, models = plan_models(catalog, resolver)
    queries = plan_queries(request.queries, models, resolver)
    if resolver.errors:
        raise CodegenError(
            "\n".join([*resolver.errors, "(strict_types is on: unknown types are errors)"])
        )
    for warning in resolver.warnings:
        print(f"warning: {warning}", file=warnings)
    version = request.sqlc_version or "unknown"
    files = {
        "__init__.py": render_init(version),
        "models.py": render_models(options, version, enums, models),
    }
    for filename, group in groupby(queries, key=_filename):
        files.update(_query_modules(options, version, filename, list(group)))
    return [File(name, text.encode()) for name, text in sorted(files.items())]


def _filename(query: QueryDef) -> str:
    return query.source


def _query_modules(
    options: Options, version: str, filename: str, queries: list[QueryDef]
) -> dict[str, str]:
    module = _module_name(filename)
    files = {f"{module}.py": render_sync_module(options, version, filename, queries)}
    if options.emit_async:
        files[f"{module}_async.py"] = render_async_module(
            options, version, filename, module, queries
        )
    return files


def _module_name(filename: str) -> str:
    stem = filename.rsplit("/", 1)[-1].removesuffix(".sql").replace("-", "_")
    if (
        not _MODULE.match(stem)
        or keyword.iskeyword(stem)
        or stem in _TAKEN
        or stem.endswith("_async")
    ):
        raise CodegenError(
            f"{filename}: the queries file name must make a Python module name that is not "
            f"{', '.join(sorted(_TAKEN))} and does not end in _async; rename the file"
        )
    return stem
