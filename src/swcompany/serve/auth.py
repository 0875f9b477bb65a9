"""Bearer tokens: who is calling, so each team sees only its own projects.

Tokens come from ``SWCOMPANY_SERVE_TOKENS=name1:token1,name2:token2`` and/or a file named
by ``SWCOMPANY_SERVE_TOKENS_FILE`` (one ``name:token`` a line, ``#`` comments). The name
owns projects; the token only proves it. Provider keys are a different thing and live
only in the workers' environment.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from ..errors import ConfigError

MIN_TOKEN_CHARS = 16


def parse_tokens(text: str, source: str) -> dict[str, str]:
    """``{token: name}`` from comma- or newline-separated ``name:token`` pairs."""
    tokens: dict[str, str] = {}
    for raw in text.replace(",", "\n").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, token = line.partition(":")
        name, token = name.strip(), token.strip()
        if not sep or not name or not token:
            raise ConfigError(f"{source}: expected name:token, got an entry without both")
        if len(token) < MIN_TOKEN_CHARS:
            raise ConfigError(f"{source}: the token of {name!r} is shorter than {MIN_TOKEN_CHARS} characters",
                              hint="make one with: python -c 'import secrets; print(secrets.token_urlsafe(24))'")
        tokens[token] = name
    return tokens


def load_tokens(environ: dict[str, str] | None = None) -> dict[str, str]:
    env = os.environ if environ is None else environ
    tokens = parse_tokens(env.get("SWCOMPANY_SERVE_TOKENS", ""), "SWCOMPANY_SERVE_TOKENS")
    path = env.get("SWCOMPANY_SERVE_TOKENS_FILE")
    if path:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read SWCOMPANY_SERVE_TOKENS_FILE {path}: {exc.strerror or exc}") from None
        tokens.update(parse_tokens(text, path))
    return tokens


def generated_token() -> dict[str, str]:
    """A one-machine setup without configured tokens gets one random token for ``admin``."""
    return {secrets.token_urlsafe(24): "admin"}


def owner_of(header: str | None, tokens: dict[str, str]) -> str | None:
    """The owner name for an ``Authorization: Bearer <token>`` header, compared in constant time."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    token = token.strip()
    found = None
    for known, name in tokens.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            found = name
    return found
