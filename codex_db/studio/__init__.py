"""``codex-db studio``: a local web GUI to browse, filter and (with ``--write``) edit the database.

Start it from the command line (``codex-db studio``, or `main()`), from Python
with `serve()`, or build the server with `make_server()` and run it in a thread
of your own (tests use ``port=0``). Everything it serves ships in this package.
See docs/studio.md for the pages and the security model.
"""

from __future__ import annotations

from codex_db.studio._launch import launch, main, serve
from codex_db.studio._server import StudioServer, make_server

__all__ = ["StudioServer", "launch", "main", "make_server", "serve"]

for _public in (StudioServer, launch, main, make_server, serve):
    _public.__module__ = __name__  # implemented in the private modules of this package
