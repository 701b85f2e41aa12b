"""Connection-string parsing, rewriting and password redaction."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from psycopg.conninfo import conninfo_to_dict

__all__ = ["redact", "to_url", "with_dbname", "yoyo_url"]

_URL_PASSWORD = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@?#\s]*:)(?P<pw>[^@/?#\s]*)(?=@)", re.I
)
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<pw>[^&#\s]*)", re.I)
_MASK = "***"


def redact(text: str) -> str:
    """Return *text* with every password in a connection string replaced by ``***``.

    Use it on anything that may contain a URL before it reaches a log, an
    exception message or a repr. Works on URLs (``postgresql://u:pw@h/db``),
    URL query parameters (``?password=pw``) and libpq key/value strings.
    """
    text = _URL_PASSWORD.sub(lambda m: m["head"] + (_MASK if m["pw"] else ""), text)
    text = _QUERY_PASSWORD.sub(lambda m: m["head"] + _MASK, text)
    return _KV_PASSWORD.sub(lambda m: m["head"] + _MASK, text)


def to_url(conninfo: str, *, scheme: str = "postgresql") -> str:
    """Normalise a URL or key/value conninfo string to a ``scheme://`` URL."""
    params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items()}
    user = quote(params.pop("user", ""), safe="")
    password = params.pop("password", None)
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = params.pop("host", "")
    port = params.pop("port", "")
    netloc = host if host and not host.startswith("/") and "," not in host else ""
    if not netloc and host:
        params["host"] = host
    if port and netloc:
        netloc = f"{netloc}:{port}"
    elif port:
        params["port"] = port
    dbname = quote(params.pop("dbname", ""), safe="")
    query = f"?{urlencode(sorted(params.items()))}" if params else ""
    return f"{scheme}://{auth}{netloc}/{dbname}{query}"


def with_dbname(conninfo: str, dbname: str) -> str:
    """Return the URL of database *dbname* on the server *conninfo* points at."""
    params = conninfo_to_dict(conninfo)
    params["dbname"] = dbname
    return to_url(" ".join(f"{k}={_kv_quote(str(v))}" for k, v in params.items()))


def yoyo_url(conninfo: str) -> str:
    """Return *conninfo* as a URL yoyo-migrations opens with psycopg 3.

    yoyo picks its driver from the scheme: ``postgresql://`` would need
    psycopg2, ``postgresql+psycopg://`` uses psycopg 3.
    """
    return to_url(conninfo, scheme="postgresql+psycopg")


def _kv_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"
