"""Connection strings: the one parser, redactor and pooler-host rule of the package.

Everything that shows a URL (logs, errors, reprs, CLI output, the studio) goes
through `display()` or `redact()`; a URL held in settings is a `Secret`, whose
every rendering is the display form. Whether a host is Neon's pooled endpoint
is `is_pooler_host()`, and `direct_url()` turns a pooled URL into the direct
one that migrations, locks and session settings need.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urlencode

import msgspec
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = [
    "MASK",
    "NEON_SUFFIX",
    "POOLER_SUFFIX",
    "Secret",
    "direct_url",
    "display",
    "is_neon_host",
    "is_pooled",
    "is_pooler_host",
    "redact",
    "scrub",
    "to_url",
    "with_dbname",
    "yoyo_url",
]

MASK = "***"

#: The suffix of the first DNS label that makes a host Neon's pooled endpoint
#: (``ep-cool-name-123456-pooler.us-east-2.aws.neon.tech``).
POOLER_SUFFIX = "-pooler"

_SECRET_KEYS = ("password", "sslpassword")

# libpq ends a URL's user info at the first "@" before the path: a password may
# hold raw "#", "?" or ":" (libpq accepts them), but not "/" or "@".
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@/\s]*)(?=@)", re.I)
# Key/value form: a value runs to the next blank unless quoted ("?password=" and
# "&password=" are the URL query form, matched by _QUERY_PASSWORD instead).
_KV_PASSWORD = re.compile(
    r"(?P<head>(?<![?&\w])(?:ssl)?password\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'?|\S+)", re.I
)
# What libpq refuses to parse may still hold a password: blanks included.
_URL_PASSWORD_LOOSE = re.compile(r"(?P<head>://[^:/@]*:)(?P<pw>[^@/]*)(?=@)", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&](?:ssl)?password=)(?P<pw>[^&#\s]*)", re.I)


def redact(text: str) -> str:
    """*text* with every password of a connection string in it replaced by ``***``.

    Use it on free text that may contain URLs (error messages, tracebacks)
    before it reaches a log or a terminal. It covers URLs
    (``postgresql://u:pw@h/db``, raw ``#``/``?`` in the password included),
    query parameters (``?password=``, ``&sslpassword=``) and libpq key/value
    strings (``password=... sslpassword=...``, quoted or not). For one
    connection string, prefer `display()`.
    """
    text = _URL_PASSWORD.sub(lambda m: m["head"] + (MASK if m["pw"] else ""), text)
    text = _QUERY_PASSWORD.sub(lambda m: m["head"] + MASK, text)
    return _KV_PASSWORD.sub(lambda m: m["head"] + MASK, text)


def display(conninfo: str) -> str:
    """The display form of one URL or key/value conninfo: a URL with its secrets masked.

    ``password`` and ``sslpassword`` become ``***`` however they were
    written (in the user info, as query parameters, as keys). A string libpq
    cannot parse is shown through `redact()`.
    """
    try:
        params = _parse(conninfo)
    except Exception:
        return redact(conninfo)
    for key in _SECRET_KEYS:
        if key in params:
            params[key] = MASK
    return _unquote_mask(_url_of(params, "postgresql"))


def scrub(message: str, conninfo: str) -> str:
    """*message* without any secret of *conninfo*, even one libpq failed to parse.

    Use it on errors raised while *conninfo* was being parsed or connected to:
    libpq may quote part of the string back.
    """
    message = redact(message)
    for secret in _secrets(conninfo):
        for variant in {secret, unquote(secret), quote(secret, safe="")}:
            if variant:
                message = message.replace(variant, MASK)
    return message


class Secret(msgspec.Struct, dict=True, eq=False):
    """A connection string whose every rendering is its `display()` form.

    ``repr()``, ``str()``, f-strings, ``msgspec.json.encode``,
    ``msgspec.structs.asdict`` and rich all show ``shown`` (the password as
    ``***``); `reveal()` returns the real value, for connecting. Build one
    with `Secret.of()`.
    """

    shown: str

    @classmethod
    def of(cls, value: str) -> Secret:
        """Hold *value*; its renderings show `display(value)`."""
        secret = cls(display(value))
        secret.__dict__["_value"] = value
        return secret

    def reveal(self) -> str:
        """The real connection string: pass it to libpq, never to a log."""
        return str(self.__dict__["_value"])

    def __repr__(self) -> str:
        return f"Secret({self.shown!r})"

    def __str__(self) -> str:
        return self.shown

    def __format__(self, spec: str) -> str:
        return format(self.shown, spec)

    def __rich_repr__(self) -> Any:
        yield self.shown

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self.reveal() == other.reveal()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.reveal())

    def __copy__(self) -> Secret:
        return Secret.of(self.reveal())

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return Secret.of(self.reveal())

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (Secret.of, (self.reveal(),))


def is_pooler_host(host: str) -> bool:
    """Whether *host* is a Neon pooled endpoint: its first label ends with ``-pooler``.

    ``ep-x-123-pooler.us-east-2.aws.neon.tech`` is; ``ep-x-123.us-east-2...``,
    ``pooler.example.com``, ``my-pooler-db.example.com`` and
    ``db.ep-x-pooler.example.com`` are not. Any other transaction pooler is
    declared with ``DATABASE_POOLER=transaction``.
    """
    label = host.strip().split(".", 1)[0].lower()
    return label.endswith(POOLER_SUFFIX) and label != POOLER_SUFFIX


#: Neon's host names: certificates from a public CA, for ``sslrootcert=system``.
NEON_SUFFIX = ".neon.tech"


def is_neon_host(host: str) -> bool:
    """Whether *host* is a Neon endpoint (``ep-x-123[-pooler].region.aws.neon.tech``)."""
    return host.strip().lower().rstrip(".").endswith(NEON_SUFFIX)


def is_pooled(conninfo: str) -> bool:
    """Whether any host of *conninfo* is a pooled endpoint (`is_pooler_host`)."""
    hosts = str(_parse(conninfo).get("host", ""))
    return any(is_pooler_host(h) for h in hosts.split(",") if h)


def direct_url(conninfo: str) -> str:
    """*conninfo* with each pooled host (``ep-x-pooler.region...``) replaced by the direct one.

    Migrations, locks and session settings need a direct connection; a
    conninfo without a pooled host is returned unchanged.
    """
    params = _parse(conninfo)
    hosts = str(params.get("host", "")).split(",")
    if not any(is_pooler_host(h) for h in hosts):
        return conninfo
    direct = ",".join(_unpool(h) for h in hosts)
    return make_conninfo(conninfo, host=direct)


def to_url(conninfo: str, *, scheme: str = "postgresql") -> str:
    """Normalise a URL or key/value conninfo string to a ``scheme://`` URL."""
    return _url_of(_parse(conninfo), scheme)


def with_dbname(conninfo: str, dbname: str) -> str:
    """Return the URL of database *dbname* on the server *conninfo* points at."""
    params = _parse(conninfo)
    params["dbname"] = dbname
    return _url_of(params, "postgresql")


def yoyo_url(conninfo: str) -> str:
    """Return *conninfo* as a URL yoyo-migrations opens with psycopg 3.

    yoyo picks its driver from the scheme: ``postgresql://`` would need
    psycopg2, ``postgresql+psycopg://`` uses psycopg 3.
    """
    return to_url(conninfo, scheme="postgresql+psycopg")


def _parse(conninfo: str) -> dict[str, str]:
    return {k: str(v) for k, v in conninfo_to_dict(conninfo).items()}


def _url_of(params: dict[str, str], scheme: str) -> str:
    params = dict(params)
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


def _unquote_mask(url: str) -> str:
    return url.replace(quote(MASK, safe=""), MASK)


def _unpool(host: str) -> str:
    if not is_pooler_host(host):
        return host
    label, dot, rest = host.partition(".")
    return label[: -len(POOLER_SUFFIX)] + dot + rest


def _secrets(conninfo: str) -> list[str]:
    """Every password-like value in *conninfo*, parsed or (if libpq cannot) matched."""
    found: list[str] = []
    try:
        params = _parse(conninfo)
        found += [params[k] for k in _SECRET_KEYS if params.get(k)]
    except Exception:  # noqa: S110 - unparseable: the patterns below still find it
        pass
    for pattern in (_URL_PASSWORD_LOOSE, _QUERY_PASSWORD, _KV_PASSWORD):
        found += [m["pw"].strip("'") for m in pattern.finditer(conninfo) if m["pw"].strip("'")]
    return found
