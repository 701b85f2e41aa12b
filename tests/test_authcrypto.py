"""better-auth compatible password hashes and session cookies (vectors made with Node)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from codex_db._authcrypto import (
    hash_password,
    resolve_secret,
    session_token_from_headers,
    sign_session_token,
    unsign_session_token,
    verify_password,
)
from codex_db.errors import ConfigError

# Made with Node 20: crypto.scryptSync(pw.normalize('NFKC'), salt, 64,
# {N: 16384, r: 16, p: 1, maxmem}) and WebCrypto HMAC-SHA256, as better-auth does.
SALT = "a3f1c2d4e5b60718293a4b5c6d7e8f90"
NODE_HASHES = {
    "correct horse battery staple": "ccfd6308387badff4124ce4ee7dfec93b0fae0664a3685e4cbf1fa7fbe6927"
    "5b70ff694768bd3f7fc68e5b9fc5bdcfab524a40dd65184d1ea150d7840cd96076",
    "Pa\u0301ssw\u00f6rd\u2460": "0948221710891e0b54cdb689bedb6e286f7dd3906ec7fe014e9165d4244ecc"
    "80f5ef2cf9e86434513b15e91b69c517ba656a8bd89081fd97fd049072e700a4fd",
    "\U0001f600emoji": "8f6c9238290c6548e1805ef409be7fd2b165d770e1c63159414acce54d7d5a9a8d1b"
    "38a2ecdaee151ed52d956f61437b07f87040b0208046f6d4ec887fa71f2c",
}
SECRET = "better-auth-test-secret-0123456789abcdef"
TOKEN = "Yx3kP9qLmN2vB7cD4fG8hJ1sT6wZ0aRe"
NODE_COOKIE = "Yx3kP9qLmN2vB7cD4fG8hJ1sT6wZ0aRe.TwaEMthCpbABDNnGSHgrKoG5nKGWIROO46j%2B1O8XPUc%3D"


class TestPasswords:
    """scrypt hashes in better-auth's 'salt:key' format."""

    @pytest.mark.parametrize("password", list(NODE_HASHES))
    def test_verifies_hashes_made_by_node(self, password: str) -> None:
        """A hash computed by Node's scrypt with better-auth's parameters verifies."""
        assert verify_password(f"{SALT}:{NODE_HASHES[password]}", password)

    def test_wrong_password_is_refused(self) -> None:
        """Any other password, even one character off, does not verify."""
        stored = f"{SALT}:{NODE_HASHES['correct horse battery staple']}"
        assert not verify_password(stored, "correct horse battery stapl")

    def test_round_trip_and_fresh_salt(self) -> None:
        """hash_password output verifies, and two hashes of one password differ."""
        first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
        assert first != second
        assert verify_password(first, "s3cret-pass")
        salt, key = first.split(":")
        assert len(salt) == 32
        assert len(key) == 128

    def test_nfkc_normalisation(self) -> None:
        """Composed and decomposed spellings of a password are the same password."""
        stored = hash_password("caf\u00e9")
        assert verify_password(stored, "cafe\u0301")

    @pytest.mark.parametrize("password", ["", "x" * 129])
    def test_absurd_passwords_are_refused(self, password: str) -> None:
        """Empty and over-long passwords raise a clear error before any hashing."""
        with pytest.raises(ValueError, match="password"):
            hash_password(password)
        with pytest.raises(ValueError, match="password"):
            verify_password(f"{SALT}:{'0' * 128}", password)

    @pytest.mark.parametrize("stored", ["", "nocolon", f"{SALT}:abc", f":{'0' * 128}"])
    def test_malformed_stored_hash(self, stored: str) -> None:
        """A stored value that is not salt:key is reported, not compared."""
        with pytest.raises(ValueError, match="scrypt format"):
            verify_password(stored, "whatever")


class TestCookies:
    """Signed session cookies as better-auth writes and reads them."""

    def test_signs_exactly_like_better_auth(self) -> None:
        """The cookie value equals the one Node's WebCrypto produced."""
        assert sign_session_token(TOKEN, SECRET) == NODE_COOKIE

    @pytest.mark.parametrize(
        "value", [NODE_COOKIE, NODE_COOKIE.replace("%2B", "+").replace("%3D", "=")]
    )
    def test_unsigns_encoded_and_decoded_values(self, value: str) -> None:
        """The '+' in the base64 signature survives (unquote, never unquote_plus)."""
        assert unsign_session_token(value, SECRET) == TOKEN

    @pytest.mark.parametrize(
        "value",
        [
            "",
            TOKEN,
            f"{TOKEN}.",
            f".{NODE_COOKIE.split('.')[1]}",
            NODE_COOKIE.replace("Yx3", "Yx4"),
            NODE_COOKIE[:-3],
            "%E0%A4%A",
            "a.b.c" * 1000,
        ],
    )
    def test_tampered_or_malformed_values(self, value: str) -> None:
        """Malformed, truncated or re-signed values give None, never an exception."""
        assert unsign_session_token(value, SECRET) is None

    def test_wrong_secret(self) -> None:
        """A cookie signed with another secret is refused."""
        assert unsign_session_token(NODE_COOKIE, "another-secret") is None

    @pytest.mark.parametrize(
        "headers",
        [
            {"Cookie": f"theme=dark; better-auth.session_token={NODE_COOKIE}"},
            {"cookie": f"__Secure-better-auth.session_token={NODE_COOKIE}"},
            {"COOKIE": f"better-auth.session_token={NODE_COOKIE}; other=1"},
            {"Authorization": f"Bearer {NODE_COOKIE}"},
            {"authorization": f"bearer {TOKEN}"},
        ],
    )
    def test_token_from_headers(self, headers: dict[str, str]) -> None:
        """Cookies (plain and __Secure-) and bearer tokens, any header case."""
        assert session_token_from_headers(headers, SECRET) == TOKEN

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"Cookie": "better-auth.session_token="},
            {"Cookie": f"codex-session={NODE_COOKIE}"},
            {"Cookie": f"better-auth.session_token={TOKEN}"},
            {"Authorization": "Basic dXNlcjpwYXNz"},
            {"Authorization": "Bearer "},
        ],
    )
    def test_no_token(self, headers: dict[str, str]) -> None:
        """No cookie, an unsigned cookie, another cookie name or scheme: no token."""
        assert session_token_from_headers(headers, SECRET) is None

    def test_custom_prefix(self) -> None:
        """advanced.cookiePrefix changes the cookie name."""
        headers = {"Cookie": f"codex.session_token={NODE_COOKIE}"}
        assert session_token_from_headers(headers, SECRET, cookie_prefix="codex") == TOKEN
        assert session_token_from_headers(headers, SECRET) is None


class TestSecret:
    """The secret comes from the argument or the environment, never a default."""

    def test_order(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Argument, then BETTER_AUTH_SECRET, then AUTH_SECRET."""
        monkeypatch.setenv("AUTH_SECRET", "from-auth")
        assert resolve_secret() == "from-auth"
        monkeypatch.setenv("BETTER_AUTH_SECRET", "from-better-auth")
        assert resolve_secret() == "from-better-auth"
        assert resolve_secret("explicit") == "explicit"

    def test_missing(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """No secret anywhere is a configuration error naming both variables."""
        monkeypatch.delenv("AUTH_SECRET", raising=False)
        monkeypatch.delenv("BETTER_AUTH_SECRET", raising=False)
        with pytest.raises(ConfigError, match=r"BETTER_AUTH_SECRET.*AUTH_SECRET"):
            resolve_secret()


class TestAdversarialHeaders:
    """Odd headers never raise and never yield a token they do not carry."""

    @pytest.mark.parametrize(
        "headers",
        [
            {"Cookie": f"better-auth.session_token={TOKEN}.{'A' * 43}="},
            {"Cookie": f"better-auth.session_token={NODE_COOKIE.replace('%3D', '')}"},
            {"Cookie": f"better-auth.session_token={NODE_COOKIE}%3D"},
            {"Cookie": "better-auth.session_token=caf\u00e9.\u00e9\u00e9\u00e9"},
            {"Cookie": "better-auth.session_token=" + "x" * 1_000_000},
            {"Cookie": ";;;==;=;better-auth.session_token"},
            {"Cookie": "better-auth.session_token=\udcff.\udcfe"},
        ],
        ids=[
            "wrong-padding",
            "no-padding",
            "long-signature",
            "non-ascii",
            "huge",
            "junk",
            "surrogates",
        ],
    )
    def test_rejected(self, headers: dict[str, str]) -> None:
        """Wrong padding or length, non-ASCII, huge and junk values give None."""
        assert session_token_from_headers(headers, SECRET) is None

    def test_signature_of_another_token(self) -> None:
        """A valid signature moved onto another token does not verify."""
        signature = NODE_COOKIE.split(".", 1)[1]
        forged = {
            "Cookie": f"better-auth.session_token=AnotherToken0000000000000000000.{signature}"
        }
        assert session_token_from_headers(forged, SECRET) is None

    def test_duplicate_cookies(self) -> None:
        """With the cookie sent twice, the validly signed value wins, in either order."""
        bad = f"better-auth.session_token={TOKEN}.{'A' * 43}="
        good = f"better-auth.session_token={NODE_COOKIE}"
        for header in (f"{bad}; {good}", f"{good}; {bad}"):
            assert session_token_from_headers({"Cookie": header}, SECRET) == TOKEN


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed: the Node cross-checks need it")
class TestAgainstNode:
    """Python's output verifies in Node's own crypto, as better-auth would check it."""

    def _node(self, script: str, *args: str) -> str:
        assert NODE is not None
        done = subprocess.run(
            [NODE, "-e", script, *args], capture_output=True, text=True, check=True, timeout=60
        )
        return done.stdout.strip()

    def test_python_hash_verifies_in_node(self) -> None:
        """hash_password() output passes Node's scryptSync with better-auth's parameters."""
        stored = hash_password("p\u00e4ssw\u00f6rd \U0001f600")
        script = (
            "const c=require('node:crypto');const [s,k]=process.argv[1].split(':');"
            "const d=c.scryptSync(process.argv[2].normalize('NFKC'),s,64,"
            "{N:16384,r:16,p:1,maxmem:128*16384*16*2});"
            "console.log(c.timingSafeEqual(d,Buffer.from(k,'hex')))"
        )
        assert self._node(script, stored, "p\u00e4ssw\u00f6rd \U0001f600") == "true"

    def test_python_cookie_verifies_in_node(self) -> None:
        """sign_session_token() output passes better-auth's getSignedCookie checks in Node."""
        value = sign_session_token("tok_" + "z" * 28, SECRET)
        script = (
            "(async()=>{const v=decodeURIComponent(process.argv[1]);const i=v.lastIndexOf('.');"
            "const t=v.slice(0,i),s=v.slice(i+1);if(s.length!==44||!s.endsWith('='))"
            "{console.log('bad');return}const k=await crypto.subtle.importKey('raw',"
            "new TextEncoder().encode(process.argv[2]),{name:'HMAC',hash:'SHA-256'},false,"
            "['verify']);console.log(await crypto.subtle.verify('HMAC',k,"
            "Buffer.from(s,'base64'),new TextEncoder().encode(t)))})()"
        )
        assert self._node(script, value, SECRET) == "true"
