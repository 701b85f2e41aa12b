"""msgspec Structs mirroring sqlc's ``plugin/codegen.proto`` (protojson, proto field names).

sqlc serialises the request with ``UseProtoNames`` and ``EmitUnpopulated``, so every
field is present, unset messages are ``null`` and ``bytes`` fields are base64 strings,
which msgspec decodes into `bytes` natively. The response is parsed strictly by sqlc:
`File` and `GenerateResponse` carry exactly the proto fields.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "Catalog",
    "Codegen",
    "Column",
    "CompositeType",
    "Enum",
    "File",
    "GenerateRequest",
    "GenerateResponse",
    "Identifier",
    "Parameter",
    "Query",
    "Schema",
    "Settings",
    "Table",
    "decode_request",
    "encode_response",
]


class Identifier(msgspec.Struct, frozen=True):
    """A possibly schema-qualified name; an empty ``schema`` means the default schema."""

    catalog: str = ""
    schema: str = ""
    name: str = ""


class Column(msgspec.Struct, frozen=True):
    """A table column, a result column or a query parameter."""

    name: str = ""
    not_null: bool = False
    is_array: bool = False
    comment: str = ""
    length: int = -1
    is_named_param: bool = False
    is_func_call: bool = False
    scope: str = ""
    table: Identifier | None = None
    table_alias: str = ""
    type: Identifier | None = None
    is_sqlc_slice: bool = False
    embed_table: Identifier | None = None
    original_name: str = ""
    unsigned: bool = False
    array_dims: int = 0


class Table(msgspec.Struct, frozen=True):
    """A table or a view of the catalog."""

    rel: Identifier
    columns: list[Column] = []
    comment: str = ""


class Enum(msgspec.Struct, frozen=True):
    """A PostgreSQL enum type and its labels in declaration order."""

    name: str
    vals: list[str] = []
    comment: str = ""


class CompositeType(msgspec.Struct, frozen=True):
    """A composite type: sqlc sends its name only, never its fields."""

    name: str
    comment: str = ""


class Schema(msgspec.Struct, frozen=True):
    """One schema of the catalog."""

    name: str
    comment: str = ""
    tables: list[Table] = []
    enums: list[Enum] = []
    composite_types: list[CompositeType] = []


class Catalog(msgspec.Struct, frozen=True):
    """Everything sqlc learnt from the schema files."""

    default_schema: str = "public"
    name: str = ""
    comment: str = ""
    schemas: list[Schema] = []


class Parameter(msgspec.Struct, frozen=True):
    """A ``$N`` placeholder of a query (one entry per distinct number)."""

    number: int
    column: Column


class Query(msgspec.Struct, frozen=True):
    """One annotated query, with macros already rewritten to ``$N``."""

    text: str
    name: str
    cmd: str
    filename: str
    columns: list[Column] = []
    params: list[Parameter] = []
    comments: list[str] = []
    insert_into_table: Identifier | None = None


class Codegen(msgspec.Struct, frozen=True):
    """The ``codegen`` entry of ``sqlc.yaml`` that runs this plugin."""

    out: str = ""
    plugin: str = ""
    options: bytes = b""
    env: list[str] = []


class Settings(msgspec.Struct, frozen=True):
    """The ``sql`` block of ``sqlc.yaml``."""

    version: str = ""
    engine: str = ""
    schema: list[str] = []
    queries: list[str] = []
    codegen: Codegen | None = None


class GenerateRequest(msgspec.Struct, frozen=True):
    """What sqlc writes to the plugin's stdin."""

    settings: Settings | None = None
    catalog: Catalog | None = None
    queries: list[Query] = []
    sqlc_version: str = ""
    plugin_options: bytes = b""
    global_options: bytes = b""


class File(msgspec.Struct, frozen=True):
    """One generated file; ``name`` is relative to the ``out`` directory."""

    name: str
    contents: bytes


class GenerateResponse(msgspec.Struct, frozen=True):
    """What the plugin writes to stdout."""

    files: list[File] = []


_request_decoder = msgspec.json.Decoder(GenerateRequest)


def decode_request(data: bytes) -> GenerateRequest:
    """Decode sqlc's JSON request; raises `msgspec.ValidationError` on a malformed one."""
    return _request_decoder.decode(data)


def encode_response(response: GenerateResponse) -> bytes:
    """Encode the response the way sqlc parses it (``contents`` as base64)."""
    return msgspec.json.encode(response)
