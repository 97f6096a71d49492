"""An OpenID Connect provider on loopback (oidc-provider-mock: discovery, authorization, token, JWKS, end of session),
in a thread of the test's own process, and the `[auth]` section of `.streamlit/secrets.toml` that points Streamlit's
st.login at it. Its authorization page has one button a known identity (its `sub`) and a box for any other."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import oidc_provider_mock
import werkzeug.serving

CLIENT_ID = "gatehouse"
# Who the provider knows, by sub: alice, dave (platform team) and erin (who has left) are platform members; mallory
# is not; impostor is another identity whose claims name alice.
IDENTITIES: dict[str, dict[str, object]] = {
    "alice": {"preferred_username": "alice", "email": "alice@example.org", "name": "Alice Smith"},
    "impostor": {"preferred_username": "alice", "email": "alice@example.org", "name": "Alice Smith"},
    "dave": {"preferred_username": "dave", "email": "dave@example.org", "name": "Dave Singh"},
    "erin": {"preferred_username": "erin", "email": "erin@example.org", "name": "Erin Walsh"},
    "mallory": {"preferred_username": "mallory", "email": "mallory@example.org", "name": "Mallory **Mal** Jones"},
}


@contextmanager
def loopback_provider(identities: Mapping[str, dict[str, object]] = IDENTITIES) -> Iterator[str]:
    """The provider on 127.0.0.1 (a free port) until the block ends; yields its issuer URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = oidc_provider_mock.app(
        user_claims=[oidc_provider_mock.User(sub=sub, claims=dict(claims)) for sub, claims in identities.items()]
    )
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def write_secrets(path: Path, issuer: str) -> Path:
    """Streamlit's secrets file with the [auth] section for the provider at `issuer` (`{port}` is filled in by
    Streamlit with its own port)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{secrets.token_urlsafe(16)}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
    )
    return path
