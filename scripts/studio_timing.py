"""Time the studio's table page on a large table: the estimated count against the exact one.

    PYTHONPATH=. .venv/bin/python scripts/studio_timing.py postgresql://postgres@127.0.0.1:5432/scratch

Creates (and drops at the end) a table ``studio_timing_big`` of 3 million rows
in the database at the URL, then prints the median of five requests of its
first page and of a filtered first page, once with the default
``exact_count_limit`` (the planner's estimate, ``~N``) and once counting exactly.
Use a scratch database: it needs about 200 MB.
"""

from __future__ import annotations

import re
import statistics
import sys
import threading
import time

import psycopg

from codex_db.studio import make_server
from tests.test_studio import Client

ROWS = 3_000_000
PATHS = ("/t/studio_timing_big", "/t/studio_timing_big?fc=n&fo=lte&fv=499")
LIMITS = ((500_000, "default (estimate)"), (10**12, "exact count"))


def _median_ms(url: str, limit: int, path: str) -> tuple[float, str]:
    server = make_server(url, port=0, quiet=True, exact_count_limit=limit, page_timeout=30)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        client = Client(server).login()
        client.get(path)  # warm the cache and the catalog
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            reply = client.get(path)
            runs.append(time.perf_counter() - start)
        shown = re.search(r"(~?\d+) matching rows", reply.body)
        return statistics.median(runs) * 1000, shown[1] if shown else "?"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(url: str) -> None:
    """Fill the table, time the pages, drop the table."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS studio_timing_big")
        conn.execute("CREATE TABLE studio_timing_big (id bigint PRIMARY KEY, label text, n int)")
        conn.execute(
            "INSERT INTO studio_timing_big SELECT i, 'row ' || i, i % 1000"
            f" FROM generate_series(1, {ROWS}) AS i"
        )
        conn.execute("ANALYZE studio_timing_big")
    try:
        for path in PATHS:
            for limit, label in LIMITS:
                median, shown = _median_ms(url, limit, path)
                print(f"{path:45} {label:20} median {median:7.1f} ms  shows {shown}")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE studio_timing_big")


if __name__ == "__main__":
    main(sys.argv[1])
