pytest_plugins = ["codex_db.testing"]
