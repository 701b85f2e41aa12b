"""TLS against a real server: a private PostgreSQL (Debian's binaries: the embedded build
has no SSL) with a certificate from a throwaway CA, SCRAM over TLS only. ``verify-full``
refuses a server that is not the host named and accepts the right one;
``channel_binding=require`` works.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from codex_db import Database, DatabaseConnectionError
from codex_db.dbtx import scalar
from tests._servers import free_port, run_as

pytestmark = pytest.mark.slow

NAME = "db.codex.test"
PASSWORD = "tls-s3cret"


@dataclass
class TLSServer:
    port: int
    ca: Path

    def url(self, host: str, **params: str) -> str:
        query = "&".join(
            f"{k}={v}"
            for k, v in {"hostaddr": "127.0.0.1", "sslrootcert": str(self.ca), **params}.items()
        )
        return f"postgresql://postgres:{PASSWORD}@{host}:{self.port}/postgres?{query}"


def _certificates(folder: Path) -> None:
    """A CA, and a server certificate for `NAME` signed by it."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=codex-db test CA", "-keyout", "ca.key", "-out", "ca.crt")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={NAME}",
            "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    (folder / "san.ext").write_text(f"subjectAltName=DNS:{NAME}\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
            "-out", "server.crt")  # fmt: skip


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TLSServer]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.skip("needs a PostgreSQL built with SSL (Debian's postgresql package)")
    bin_dir = found[-1].parent
    user = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="codex-db-tls-"))
    _certificates(root)
    data = root / "data"
    port = free_port()
    (root / "pw").write_text(PASSWORD)
    if user is not None:
        owner = pwd.getpwnam(user)
        for path in [root, *root.iterdir()]:
            os.chown(path, owner.pw_uid, owner.pw_gid)
    (root / "server.key").chmod(0o600)
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres"]
    run_as([*initdb, "--pwfile", str(root / "pw"), "--auth-local=trust"], user)
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
    )
    settings = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c ssl=on"
        f" -c ssl_cert_file={root / 'server.crt'} -c ssl_key_file={root / 'server.key'}"
    )
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w"]
    try:
        run_as([*ctl, "-o", settings, "start"], user)
    except subprocess.CalledProcessError:
        log = root / "log"
        raise RuntimeError(log.read_text() if log.exists() else "no server log") from None
    try:
        yield TLSServer(port, root / "ca.crt")
    finally:
        run_as([*ctl, "-m", "immediate", "stop"], user)
        shutil.rmtree(root, ignore_errors=True)


def test_verify_full_refuses_a_server_that_is_not_the_host_named(tls_server: TLSServer) -> None:
    url = tls_server.url("wrong.codex.test", sslmode="verify-full")
    with Database.from_url(url) as db:
        start = time.monotonic()
        with pytest.raises(DatabaseConnectionError, match="does not match host name") as caught:
            db.fetch_one("SELECT 1", (), scalar)
        took = time.monotonic() - start
    assert took < 1.5 and "fix sslmode" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_verify_full_accepts_the_right_host_with_channel_binding(tls_server: TLSServer) -> None:
    url = tls_server.url(NAME, sslmode="verify-full", channel_binding="require")
    with Database.from_url(url) as db:
        encrypted = db.fetch_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", (), scalar
        )
        assert encrypted is True
        assert PASSWORD not in repr(db)


def test_an_untrusted_certificate_is_refused(tls_server: TLSServer, tmp_path: Path) -> None:
    """verify-full with another CA (here: none that signed it) fails at once."""
    other = tmp_path / "other-ca.crt"
    _certificates(tmp_path)
    shutil.copy(tmp_path / "ca.crt", other)
    url = tls_server.url(NAME, sslmode="verify-full").replace(str(tls_server.ca), str(other))
    with Database.from_url(url) as db, pytest.raises(DatabaseConnectionError, match="certificate"):
        db.fetch_one("SELECT 1", (), scalar)
