"""The only place that talks to litellm.

One ``Gateway`` per run owns: provider arguments (base URL, key *lookup*), retries
with exponential backoff + jitter honouring ``Retry-After``, a content-addressed
response cache, structured-output parsing with repair re-prompts, truncation
handling, token/cost accounting, the budget, and the ``llm.jsonl`` call log.

litellm is imported lazily (it costs seconds) and told to use its bundled price map
instead of downloading one, so the tool talks to no host but the configured provider.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from .artifacts import Usage, utcnow
from .config import Settings
from .errors import BudgetExhausted, ConfigError, ModelOutputError, ProviderError
from .redact import remember_secret, scrub
from .structured import ReplyError, check_syntax, extract_code, parse_model
from .cache import ResponseCache

T = TypeVar("T", bound=BaseModel)
Messages = list[dict[str, str]]
MAX_OUTPUT_TOKENS_CAP = 32768
NO_KEY_PLACEHOLDER = "not-needed"  # OpenAI-compatible servers without auth still want a header


def load_litellm():
    """Import litellm quietly and offline-friendly (bundled price map, no debug prints)."""
    if os.environ.get("SWCOMPANY_REMOTE_PRICES") != "1":
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import warnings

    # litellm's lazily built pydantic types warn on every first use; users cannot act on it.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"pydantic\._internal\..*")
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    litellm.drop_params = True  # providers that lack e.g. temperature just ignore it
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


def preflight(settings: Settings, stages: list[str]) -> None:
    """Fail fast (exit 2) on unknown models or missing keys, before any workspace exists."""
    litellm = load_litellm()
    for model in sorted({settings.model_for(s) for s in stages}):
        try:
            _, provider, _, _ = litellm.get_llm_provider(model)
        except Exception:  # noqa: BLE001 - litellm raises several types here
            raise ConfigError(
                f"litellm cannot map model {model!r} to a provider",
                hint="use a provider prefix: openai/<name> (with --base-url), anthropic/<name>, ollama/<name>, azure/<deployment>",
            ) from None
        if settings.base_url or settings.api_key_env or provider in ("ollama", "ollama_chat"):
            continue
        env = litellm.validate_environment(model)
        if not env.get("keys_in_environment", True):
            missing = ", ".join(env.get("missing_keys") or ["the provider's API key"])
            raise ConfigError(
                f"no credentials for {model}: {missing} is not set",
                hint="export the key, set api_key_env in the config, or use --base-url for a local server",
            )


# --- the gateway -----------------------------------------------------------------------


@dataclass
class Reply:
    text: str
    finish_reason: str
    cached: bool
    cache_key: str
    usage: Usage


@dataclass
class CallEvent:
    """What the UI and the log learn about each call."""

    stage: str
    model: str
    usage: Usage
    cached: bool
    finish_reason: str
    label: str = ""


_TRANSIENT = (
    "RateLimitError", "APIConnectionError", "Timeout", "InternalServerError", "ServiceUnavailableError",
    "BadGatewayError", "APIError", "APIResponseValidationError", "JSONSchemaValidationError",
)
_NO_RETRY = ("AuthenticationError", "PermissionDeniedError", "NotFoundError", "BadRequestError",
             "ContextWindowExceededError", "ContentPolicyViolationError", "UnsupportedParamsError",
             "PaymentRequiredError", "BudgetExceededError")


def _is_transient(exc: BaseException) -> bool:
    """Worth retrying: rate limits, timeouts, 5xx, broken connections and bodies; never 4xx refusals."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and 400 <= status < 500:
        return status in (408, 409, 425, 429)  # litellm raises a plain APIError for e.g. 403
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & set(_NO_RETRY):
        return False
    return bool(names & set(_TRANSIENT)) or isinstance(exc, (ConnectionError, TimeoutError))


def _clean_detail(text: str) -> str:
    """litellm's messages repeat the class name thrice; keep the provider's own words, scrubbed."""
    text = " ".join(text.split())
    text = re.sub(r"^(litellm\.)?\w+(Error|Exception)?: (\w+(Error|Exception): )*(\w+Exception - )?", "", text)
    return scrub(text)[:300] or "no detail"


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(exc, "litellm_response_headers", None) or getattr(getattr(exc, "response", None), "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class Gateway:
    """LLM calls for one run. Thread-safe: the engineer calls it from a pool."""

    def __init__(self, settings: Settings, *, cache_dir: Path | None, log: Callable[[dict], None],
                 spent: Usage | None = None, on_call: Callable[[CallEvent], None] | None = None):
        self.settings = settings
        self.cache = ResponseCache(cache_dir if settings.cache else None)
        self._log = log
        self._on_call = on_call or (lambda event: None)
        self._lock = threading.Lock()
        self.total = spent.model_copy() if spent else Usage()  # includes earlier runs: budgets are per workspace
        self.by_stage: dict[str, Usage] = {}
        self._schema_refused: set[str] = set()
        self._litellm = load_litellm()

    # --- budget and accounting ---

    def check_budget(self) -> None:
        """Raise ``BudgetExhausted`` when the workspace has spent its cost or token cap."""
        s = self.settings
        with self._lock:
            if s.budget is not None and self.total.cost >= s.budget:
                raise BudgetExhausted(f"budget of ${s.budget:.4f} spent (${self.total.cost:.4f} so far)")
            if s.max_tokens is not None and self.total.tokens >= s.max_tokens:
                raise BudgetExhausted(f"token budget of {s.max_tokens} spent ({self.total.tokens} so far)")

    def _account(self, stage: str, model: str, usage: Usage, cached: bool, finish: str, label: str, key: str) -> None:
        with self._lock:
            self.total.add(usage)
            self.by_stage.setdefault(stage, Usage()).add(usage)
        self._log({
            "ts": utcnow(), "stage": stage, "model": model, "label": label, "cached": cached,
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "cost": round(usage.cost, 8), "latency_s": round(usage.seconds, 4), "finish_reason": finish,
            "cache_key": key[:16],
        })
        self._on_call(CallEvent(stage, model, usage, cached, finish, label))

    def _cost(self, response: Any, prompt_tokens: int, completion_tokens: int) -> float:
        s = self.settings
        if s.input_cost_per_token is not None or s.output_cost_per_token is not None:
            return prompt_tokens * (s.input_cost_per_token or 0) + completion_tokens * (s.output_cost_per_token or 0)
        known = (getattr(response, "_hidden_params", None) or {}).get("response_cost")
        if known is not None:  # litellm already priced this response; don't pay for it twice
            return float(known)
        try:
            return float(self._litellm.completion_cost(completion_response=response) or 0.0)
        except Exception:  # noqa: BLE001 - unknown model: cost stays 0, tokens still count
            return 0.0

    # --- one request ---

    def _request(self, model: str, messages: Messages, schema: type[BaseModel] | None, max_tokens: int) -> dict[str, Any]:
        req: dict[str, Any] = {
            "model": model, "messages": messages, "temperature": self.settings.temperature,
            "max_tokens": max_tokens,
        }
        if self.settings.base_url:
            req["api_base"] = self.settings.base_url
        if schema is not None and self._use_schema(model):
            req["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": False},
            }
        return req

    def _use_schema(self, model: str) -> bool:
        mode = self.settings.structured_output
        if mode == "prompt" or model in self._schema_refused:
            return False
        if mode == "schema":
            return True
        try:
            return bool(self._litellm.supports_response_schema(model=model))
        except Exception:  # noqa: BLE001
            return False

    def chat(self, stage: str, messages: Messages, *, schema: type[BaseModel] | None = None,
             max_tokens: int | None = None, label: str = "") -> Reply:
        """One completion, from the cache when possible, else from the provider with retries."""
        model = self.settings.model_for(stage)
        request = self._request(model, messages, schema, max_tokens or self.settings.max_output_tokens)
        key = ResponseCache.key(request)
        hit = self.cache.get(key)
        if hit is not None:
            usage = Usage(cached_calls=1)
            self._account(stage, model, usage, True, hit["finish_reason"], label, key)
            return Reply(hit["text"], hit["finish_reason"], True, key, usage)
        self.check_budget()
        started = time.monotonic()
        response = self._call_with_retries(request)
        if not getattr(response, "choices", None):
            raise ProviderError(f"{model}: the provider answered with no choices", hint="resume to try again")
        choice = response.choices[0]
        text = choice.message.content or ""
        finish = choice.finish_reason or "stop"
        u = getattr(response, "usage", None)
        pt, ct = int(getattr(u, "prompt_tokens", 0) or 0), int(getattr(u, "completion_tokens", 0) or 0)
        usage = Usage(calls=1, prompt_tokens=pt, completion_tokens=ct, cost=self._cost(response, pt, ct),
                      seconds=time.monotonic() - started)
        self.cache.put(key, {"text": text, "finish_reason": finish, "model": model, "usage": usage.model_dump()})
        self._account(stage, model, usage, False, finish, label, key)
        return Reply(text, finish, False, key, usage)

    def _call_with_retries(self, request: dict[str, Any]) -> Any:
        from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay
        from tenacity.wait import wait_random_exponential

        s = self.settings
        backoff = wait_random_exponential(multiplier=max(s.retry_base_delay, 1e-3), max=60)

        def wait(state) -> float:
            hinted = _retry_after(state.outcome.exception()) if state.outcome else None
            return min(hinted, 120.0) if hinted is not None else backoff(state)

        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            wait=wait,
            stop=stop_after_attempt(s.max_retries + 1) | stop_after_delay(s.retry_deadline),
            reraise=False,
        )
        kwargs = dict(request, timeout=s.timeout, num_retries=0, max_retries=0)
        api_key = api_key_for(s, request["model"])
        if api_key:
            kwargs["api_key"] = api_key
        try:
            return retrying(self._complete_once, kwargs)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise self._provider_error(request["model"], last, attempts=exc.last_attempt.attempt_number) from None
        except Exception as exc:  # noqa: BLE001 - mapped to our errors below
            raise self._provider_error(request["model"], exc, attempts=1) from None

    def _complete_once(self, kwargs: dict[str, Any]) -> Any:
        try:
            return self._litellm.completion(**kwargs)
        except Exception as exc:
            # Some OpenAI-compatible servers reject response_format: fall back to the prompt.
            if "response_format" in kwargs and type(exc).__name__ == "BadRequestError":
                self._schema_refused.add(kwargs["model"])
                retry = {k: v for k, v in kwargs.items() if k != "response_format"}
                return self._litellm.completion(**retry)
            raise

    def _provider_error(self, model: str, exc: BaseException | None, attempts: int) -> ProviderError:
        name = type(exc).__name__ if exc else "Error"
        detail = _clean_detail(str(exc)) if exc else "unknown failure"
        status = getattr(exc, "status_code", None)
        if "connection error" in detail.lower() or name == "APIConnectionError":
            where = self.settings.base_url or "the provider"
            return ProviderError(f"{model}: cannot reach {where} ({detail}) after {attempts} attempt(s)",
                                 hint="check --base-url, that the server is running, and your network")
        if name in ("AuthenticationError", "PermissionDeniedError") or status in (401, 403):
            return ProviderError(f"{model}: authentication failed (HTTP {status or 401})", hint=key_hint(self.settings, model))
        if name == "NotFoundError" or status == 404:
            return ProviderError(f"{model}: model or endpoint not found ({detail})",
                                 hint="check the model name and --base-url (OpenAI-compatible servers usually end in /v1)")
        tries = f" after {attempts} attempt{'s' if attempts != 1 else ''}" if attempts > 1 else ""
        return ProviderError(f"{model}: provider call failed{tries}: {name}: {detail}")

    # --- structured helpers ---

    def _repair_loop(self, stage: str, messages: Messages, parse: Callable[[str], Any], *,
                     schema: type[BaseModel] | None, label: str, what: str) -> Any:
        """Ask, parse, and on failure re-prompt with the exact error; bounded attempts."""
        convo = list(messages)
        max_tokens = self.settings.max_output_tokens
        keys: list[str] = []
        error = "no reply"
        for _ in range(self.settings.repair_attempts + 1):
            reply = self.chat(stage, convo, schema=schema, max_tokens=max_tokens, label=label)
            keys.append(reply.cache_key)
            if reply.finish_reason == "length":
                if max_tokens >= MAX_OUTPUT_TOKENS_CAP:
                    error = "the reply was cut off at the output token limit"
                    break
                max_tokens = min(max_tokens * 2, MAX_OUTPUT_TOKENS_CAP)  # same question, more room
                continue
            if len(reply.text) > self.settings.max_reply_chars:  # never parsed, stored or re-sent
                self.cache.forget([keys.pop()])
                error = (f"The reply was {len(reply.text):,} characters; at most {self.settings.max_reply_chars:,} "
                         "are accepted. Reply again with only what was asked, much shorter.")
                convo = [*convo, {"role": "assistant", "content": f"(a reply of {len(reply.text):,} characters, not shown)"},
                         {"role": "user", "content": error}]
                continue
            try:
                return parse(reply.text)
            except ReplyError as exc:
                error = str(exc)
            except (RecursionError, MemoryError):  # a parser's stack overflowed on the reply: it is unusable
                error = "The reply is nested too deeply to parse. Reply again, plainly."
            convo = [*convo, {"role": "assistant", "content": reply.text}, {"role": "user", "content": error}]
        self.cache.forget(keys)  # a later resume should ask afresh, not replay the failure
        raise ModelOutputError(f"{stage}: the model's {what} was unusable after repair attempts: {error.splitlines()[0]}",
                               hint="resume to try again, or use a stronger model for this stage")

    def ask_model(self, stage: str, messages: Messages, model: type[T], label: str = "",
                  check: Callable[[T], None] | None = None) -> T:
        """A reply validated as ``model`` (schema via response_format when supported).

        ``check`` may add rules the schema cannot express; it raises ``ReplyError`` with the
        instruction for the model, which is then re-prompted like a schema error.
        """

        def parse(text: str) -> T:
            value = parse_model(text, model)
            if check is not None:
                check(value)
            return value

        return self._repair_loop(stage, messages, parse, schema=model, label=label or model.__name__,
                                 what=f"{model.__name__} JSON")

    def ask_file(self, stage: str, messages: Messages, path: str,
                 check: Callable[[str], str | None] | None = None) -> str:
        """The complete content of one file; parseable kinds must parse, and ``check`` (if any) pass."""

        def parse(text: str) -> str:
            content = extract_code(text, path)
            problem = check_syntax(path, content) or (check(content) if check else None)
            if problem:
                raise ReplyError(f"{path}: {problem}. Reply with the complete corrected file only.")
            return content

        return self._repair_loop(stage, messages, parse, schema=None, label=path, what=f"code for {path}")
