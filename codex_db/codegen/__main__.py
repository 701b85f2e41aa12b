"""sqlc process-plugin entry point: JSON request on stdin, JSON response on stdout.

sqlc runs the ``sqlc-gen-codex-db`` console script with no arguments and no ``PATH``;
errors go to stderr with exit status 1 (sqlc shows them as
``process: error running command ...``). Nothing but the response goes to stdout.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from pathlib import Path

import msgspec

from codex_db.codegen.errors import CodegenError
from codex_db.codegen.generate import generate
from codex_db.codegen.protocol import (
    File,
    GenerateRequest,
    GenerateResponse,
    decode_request,
    encode_response,
)

__all__ = ["CAPTURE_ENV", "main"]

CAPTURE_ENV = "CODEX_DB_CODEGEN_CAPTURE"
"""If set (and listed in ``plugins[].env``), the plugin also writes its files there as JSON.

The record also carries the warnings (unknown types typed Any), which sqlc never shows.
"""


def main() -> int:
    """Run one generation; returns the exit status."""
    try:
        request = decode_request(sys.stdin.buffer.read())
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        print(f"sqlc-gen-codex-db: invalid request from sqlc: {exc}", file=sys.stderr)
        return 1
    warnings = io.StringIO()
    try:
        files = generate(request, warnings)
    except CodegenError as exc:
        print(f"sqlc-gen-codex-db: {exc}", file=sys.stderr)
        return 1
    # sqlc drops a plugin's stderr when it succeeds: the capture carries the warnings
    # to `codex-db gen`, and stderr to whoever runs the plugin by hand.
    sys.stderr.write(warnings.getvalue())
    _capture(request, files, warnings.getvalue().splitlines())
    sys.stdout.buffer.write(encode_response(GenerateResponse(files)))
    return 0


def _capture(request: GenerateRequest, files: list[File], warnings: list[str]) -> None:
    directory = os.environ.get(CAPTURE_ENV)
    if not directory:
        return
    codegen = request.settings.codegen if request.settings else None
    out = (Path.cwd() / (codegen.out if codegen else "")).resolve()
    record = {
        "out": str(out),
        "files": {f.name: f.contents.decode() for f in files},
        "warnings": [w.removeprefix("warning: ") for w in warnings],
    }
    digest = hashlib.sha256(str(out).encode()).hexdigest()[:16]
    Path(directory, f"{digest}.json").write_bytes(msgspec.json.encode(record))


if __name__ == "__main__":
    raise SystemExit(main())
