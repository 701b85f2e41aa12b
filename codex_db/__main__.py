"""``python -m codex_db``: the codex-db command line."""

from codex_db.cli import main

raise SystemExit(main())
