"""Identity's JWKS played by a loopback HTTP server, for tests of services that verify access tokens."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OKPKey

ISSUER = "factora-identity"  # the iss identity puts in its tokens (servicekit.auth.ISSUER)
DEFAULT_KID = "identity-test"


class LocalJwks:
    """Serves `keys` (mutable) at `url` and counts the fetches; `token()` signs with the first key."""

    def __init__(self, keys: list[ECKey | OKPKey] | None = None) -> None:
        self.keys: list[ECKey | OKPKey] = (
            keys if keys is not None else [ECKey.generate_key("P-256", parameters={"kid": DEFAULT_KID})]
        )
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                body = json.dumps(KeySet(outer.keys).as_dict(private=False)).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def key(self) -> ECKey | OKPKey:
        """The key tokens are signed with."""
        return self.keys[0]

    def token(
        self,
        company_id: str,
        rights: Iterable[str] = (),
        *,
        user_id: str = "u-test",
        acr: str = "aal1",
        auth_age_s: int = 0,
        ttl_s: int = 600,
    ) -> str:
        """An ES256 access token with the claims identity issues."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user_id,
            "company_id": company_id,
            "rights": list(rights),
            "acr": acr,
            "auth_time": now - auth_age_s,
            "iat": now,
            "exp": now + ttl_s,
        }
        return jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
