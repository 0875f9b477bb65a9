"""Provider set-up before any call: importing litellm quietly, which key to send, and the preflight.

Split from the gateway so ``doctor`` and the preflight read as what they are: checks of the
configuration, before the first paid request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from .config import Settings
from .errors import ConfigError
from .redact import remember_secret

NO_KEY_PLACEHOLDER = "not-needed"  # OpenAI-compatible servers without auth still want a header


def load_litellm():
    """Import litellm quietly and offline-friendly (bundled price map, no debug prints)."""
    if os.environ.get("SWCOMPANY_REMOTE_PRICES") != "1":
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import warnings

    # litellm's lazily built pydantic types warn on every first use; users cannot act on it.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"pydantic\._internal\..*")
    warnings.filterwarnings("ignore", message=r".*model_(computed_)?fields.*", category=DeprecationWarning)
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    litellm.drop_params = True  # providers that lack e.g. temperature just ignore it
    # litellm aborts a stream of 100 identical chunks as a provider error; a degenerate reply is
    # the model's output problem instead (bounded by max_tokens, max_reply_chars, reply_timeout)
    # and gets a re-prompt that says what was wrong, not a blind retry.
    litellm.REPEATED_STREAMING_CHUNK_LIMIT = 10**9  # type: ignore[misc]  # Final in litellm, meant to be tuned
    import logging

    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return litellm


# --- provider setup ------------------------------------------------------------------


_OPENAI_COMPATIBLE = {"openai", "custom_openai", "hosted_vllm", "lm_studio", "llamafile", "text-completion-openai"}


def api_key_for(settings: Settings, model: str) -> str | None:
    """The key to pass explicitly, if any; litellm reads provider env vars by itself.

    A keyless OpenAI-compatible server (vLLM, llama.cpp, LM Studio) still needs *some*
    bearer value or the OpenAI client refuses to send; other providers keep their own keys.
    """
    if settings.api_key_env:
        value = os.environ.get(settings.api_key_env)
        if not value:
            raise ConfigError(f"api_key_env names ${settings.api_key_env}, but it is not set")
        remember_secret(value)  # providers echo keys in errors; this name is not secret-shaped
        return value
    if settings.base_url and not os.environ.get("OPENAI_API_KEY"):
        try:
            provider = load_litellm().get_llm_provider(model)[1]
        except Exception:  # noqa: BLE001 - preflight reports unmappable models
            provider = ""
        if provider in _OPENAI_COMPATIBLE:
            return NO_KEY_PLACEHOLDER
    return None


def key_hint(settings: Settings, model: str) -> str:
    """Which environment variable holds the key this model's requests used."""
    if settings.api_key_env:
        return f"check ${settings.api_key_env} (api_key_env)"
    try:
        provider = load_litellm().get_llm_provider(model)[1]
    except Exception:  # noqa: BLE001 - a hint must never fail
        provider = ""
    if provider in _OPENAI_COMPATIBLE:
        provider = "openai"
    variable = f"{provider.upper().replace('-', '_')}_API_KEY" if provider else "the provider's API key variable"
    return f"check {variable}" + (f" (sent to {settings.base_url})" if settings.base_url else "")


@contextmanager
def _empty_keys_hidden() -> Iterator[list[str]]:
    """Hide ``FOO_API_KEY=`` (set but empty) while litellm checks the environment.

    litellm counts an empty variable as a key; the provider then refuses every call, five
    retries later, after a workspace exists. An empty key is a missing key.
    """
    empty = {k: v for k, v in os.environ.items() if k.endswith(("_API_KEY", "_KEY", "_TOKEN")) and not v.strip()}
    for name in empty:
        del os.environ[name]
    try:
        yield sorted(empty)
    finally:
        os.environ.update(empty)


def preflight(settings: Settings, stages: list[str]) -> None:
    """Fail fast (exit 2) on unknown models or missing (or empty) keys, before any workspace exists."""
    litellm = load_litellm()
    if settings.api_key_env and not os.environ.get(settings.api_key_env, "").strip():
        state = "empty" if settings.api_key_env in os.environ else "not set"
        raise ConfigError(f"api_key_env names ${settings.api_key_env}, but it is {state}",
                          hint=f"export {settings.api_key_env}=<your key>, or remove api_key_env from the config")
    for model in sorted({settings.model_for(s) for s in stages}):
        try:
            _, provider, _, _ = litellm.get_llm_provider(model)
        except Exception:  # noqa: BLE001 - litellm raises several types here
            from .errors import did_you_mean

            raise ConfigError(
                f"litellm cannot map model {model!r} to a provider{did_you_mean(model, litellm.model_list)}",
                hint="use a provider prefix: openai/<name> (with --base-url), anthropic/<name>, ollama/<name>, azure/<deployment>",
            ) from None
        if settings.base_url or settings.api_key_env or provider in ("ollama", "ollama_chat"):
            continue
        with _empty_keys_hidden() as empty:
            env = litellm.validate_environment(model)
        if not env.get("keys_in_environment", True):
            keys = env.get("missing_keys") or ["the provider's API key"]
            missing = ", ".join(keys)
            state = "empty" if keys and all(k in empty for k in keys) else "not set"
            raise ConfigError(
                f"no credentials for {model}: {missing} is {state}",
                hint="export the key, set api_key_env in the config, or use --base-url for a local server",
            )
