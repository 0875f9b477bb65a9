"""Keep secrets out of everything we write or print, and out of the sandbox.

Pure functions over an environment mapping, so the rules are testable and shared by
the LLM gateway (scrubbing exception text), the logs and the test sandbox.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

# Names that hold credentials for the providers litellm talks to, or look like secrets.
_SECRET_NAME = re.compile(
    r"(API_KEY|APIKEY|_KEY$|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|PRIVATE|SESSION)",
    re.IGNORECASE,
)
_PROVIDER_PREFIXES = (
    "OPENAI_", "ANTHROPIC_", "AZURE_", "AWS_", "GEMINI_", "GOOGLE_", "VERTEX", "COHERE_",
    "MISTRAL_", "GROQ_", "TOGETHER", "REPLICATE_", "HF_", "HUGGINGFACE", "DEEPSEEK_",
    "OPENROUTER_", "FIREWORKS", "PERPLEXITY", "XAI_", "LITELLM_", "OLLAMA_", "SWCOMPANY_",
    "GITHUB_", "GH_", "NPM_", "PYPI_", "TWINE_",
)
# What a generated project's test run may see; everything else is dropped.
_SANDBOX_ALLOW = {
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TERM", "TMPDIR", "TEMP", "TMP",
    "TZ", "SHELL", "SYSTEMROOT", "COMSPEC", "PATHEXT", "WINDIR",
}
_BEARER = re.compile(r"(?i)(bearer\s+|authorization[\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)")
_KEYLIKE = re.compile(r"\b(sk-(?:ant-)?[A-Za-z0-9_\-]{8,})")
MASK = "***"
# Values read through api_key_env (their variable's name may look harmless). Replaced, never
# mutated, so a thread scrubbing while another remembers never sees it change size.
_REMEMBERED: frozenset[str] = frozenset()


def remember_secret(value: str | None) -> None:
    """Scrub ``value`` from everything from now on (a key read from e.g. ``$MY_VAR``)."""
    global _REMEMBERED
    if value and len(value) >= 6 and value not in _REMEMBERED:
        _REMEMBERED = _REMEMBERED | {value}


def is_secret_name(name: str) -> bool:
    """True for variables that look like credentials or provider settings."""
    upper = name.upper()
    return bool(_SECRET_NAME.search(upper)) or upper.startswith(_PROVIDER_PREFIXES)


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of secret-looking variables worth scrubbing (long enough to be unique)."""
    env = os.environ if environ is None else environ
    # ``SWCOMPANY_API_KEY_ENV`` and the like hold the *name* of a key variable, which is no secret.
    values = {v for k, v in env.items() if _SECRET_NAME.search(k.upper()) and not k.upper().endswith("_ENV") and len(v) >= 6}
    return sorted(values, key=len, reverse=True)


def scrub(text: str, environ: Mapping[str, str] | None = None, extra: list[str] | None = None) -> str:
    """Replace secret values, bearer tokens and key-shaped strings with ``***``."""
    for value in sorted({*(extra or []), *_REMEMBERED, *secret_values(environ)}, key=len, reverse=True):
        if value:
            text = text.replace(value, MASK)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    return _KEYLIKE.sub(MASK, text)


def sandbox_env(environ: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An allow-listed environment for untrusted generated code: no credentials."""
    env = os.environ if environ is None else environ
    clean = {k: v for k, v in env.items() if k.upper() in _SANDBOX_ALLOW or k.upper().startswith("LC_")}
    clean.update(extra or {})
    return {k: v for k, v in clean.items() if not is_secret_name(k)}
