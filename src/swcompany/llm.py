"""The only place that talks to litellm.

One ``Gateway`` per run owns: provider arguments (base URL, key *lookup*), retries
with exponential backoff + jitter honouring ``Retry-After``, a content-addressed
response cache, token/cost accounting, the budget, and the ``llm.jsonl`` call log.
Structured asks (parse, repair re-prompts, truncation, kept rejects) are in ``asking.py``.

litellm is imported lazily (it costs seconds) and told to use its bundled price map
instead of downloading one, so the tool talks to no host but the configured provider.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .artifacts import Usage, utcnow
from .config import Settings
from .errors import BudgetExhausted, ProviderError
from .providers import (  # noqa: F401 - re-exported for callers of the gateway
    _OPENAI_COMPATIBLE, NO_KEY_PLACEHOLDER, api_key_for, key_hint, load_litellm, preflight,
)
from .redact import scrub
from .cache import ResponseCache
from .asking import Messages, Reply, StructuredAsks
from .streaming import RUNAWAY, BrokenStream, ReplyTooSlow, RunCancelled, collect_stream, prompt_lines



# --- the gateway -----------------------------------------------------------------------


@dataclass
class Progress:
    """A reply in flight: tokens so far (streamed replies), or a retry about to wait."""

    stage: str
    label: str
    tokens: int = 0
    seconds: float = 0.0
    retry: int = 0  # attempt number that failed, when this is a retry notice
    reason: str = ""
    wait: float = 0.0


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
    "RemoteProtocolError", "ReadTimeout", "ReadError", "MidStreamFallbackError",
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
    if isinstance(exc, ReplyTooSlow):
        return False  # the whole-reply cap was spent; asking again would spend it again
    return bool(names & set(_TRANSIENT)) or isinstance(exc, (ConnectionError, TimeoutError))


def _retry_reason(exc: BaseException | None) -> str:
    """A few words on why a call is retried, for -v and the live view."""
    if exc is None:
        return "unknown failure"
    if isinstance(exc, BrokenStream):
        return exc.short
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    return f"HTTP {status}" if isinstance(status, int) else ("timeout" if "Timeout" in name else name)


def _clean_detail(text: str) -> str:
    """litellm's messages repeat the class name thrice; keep the provider's own words, scrubbed."""
    text = " ".join(text.split())
    text = re.sub(r"^(litellm\.)?\w+(Error|Exception)?: (\w+(Error|Exception): )*(\w+Exception - )?", "", text)
    return scrub(text)[:300] or "no detail"


def _retry_after(exc: BaseException | None) -> float | None:
    headers = getattr(exc, "litellm_response_headers", None) or getattr(getattr(exc, "response", None), "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


Transport = Callable[..., Any]  # litellm.completion's signature and non-streamed response shape


class Gateway(StructuredAsks):
    """LLM calls for one run. Thread-safe: the engineer calls it from a pool.

    ``transport`` replaces ``litellm.completion`` (never streamed): the seam for an in-process
    fake model, so unit tests of stages and pipeline need no HTTP server. ``default_transport``
    is the same for gateways the API builds itself (a test fixture sets it).
    """

    default_transport: Transport | None = None

    def __init__(self, settings: Settings, *, cache_dir: Path | None, log: Callable[[dict], None],
                 spent: Usage | None = None, on_call: Callable[[CallEvent], None] | None = None,
                 rejects_dir: Path | None = None, on_progress: Callable[[Progress], None] | None = None,
                 transport: Transport | None = None):
        self.settings = settings
        self._transport = transport or Gateway.default_transport
        self.rejects_dir = rejects_dir
        self._on_progress = on_progress or (lambda progress: None)
        self.cache = ResponseCache(cache_dir if settings.cache else None)
        self._log = log
        self._on_call = on_call or (lambda event: None)
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self._parallel_requests())
        self.total = spent.model_copy() if spent else Usage()  # includes earlier runs: budgets are per workspace
        self.by_stage: dict[str, Usage] = {}
        self._schema_refused: set[str] = set()
        self._cancelled = threading.Event()
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

    def _request(self, model: str, messages: Messages, schema: dict[str, Any] | None, max_tokens: int,
                 temperature: float | None = None) -> dict[str, Any]:
        req: dict[str, Any] = {
            "model": model, "messages": messages,
            "temperature": self.settings.temperature if temperature is None else temperature,
            "max_tokens": max_tokens,
        }
        if self.settings.base_url:
            req["api_base"] = self.settings.base_url
        if schema is not None and self._use_schema(model):
            req["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.get("title", "Reply"), "schema": schema, "strict": False},
            }
        return req

    def _use_schema(self, model: str) -> bool:
        """Send the JSON schema as ``response_format``?

        ``auto``: yes for local OpenAI-compatible servers (a base URL) and Ollama, which
        enforce it as a grammar (valid JSON guaranteed) although litellm reports no support;
        otherwise as litellm says. A server that refuses it is remembered and asked without.
        """
        mode = self.settings.structured_output
        if mode == "prompt" or model in self._schema_refused:
            return False
        if mode == "schema" or self.settings.base_url or model.startswith(("ollama/", "ollama_chat/")):
            return True
        try:
            return bool(self._litellm.supports_response_schema(model=model))
        except Exception:  # noqa: BLE001
            return False

    def chat(self, stage: str, messages: Messages, *, schema: dict[str, Any] | None = None,
             max_tokens: int | None = None, label: str = "", temperature: float | None = None) -> Reply:
        """One completion, from the cache when possible, else from the provider with retries."""
        model = self.settings.model_for(stage)
        request = self._request(model, messages, schema, max_tokens or self.settings.max_output_tokens, temperature)
        key = ResponseCache.key(request)
        hit = self.cache.get(key)
        if hit is not None:
            usage = Usage(cached_calls=1)
            self._account(stage, model, usage, True, hit["finish_reason"], label, key)
            return Reply(hit["text"], hit["finish_reason"], True, key, usage)
        self.check_budget()
        started = time.monotonic()
        response = self._call_with_retries(request, stage, label)
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

    def _streams(self, model: str) -> bool:
        """Stream this model's replies? ``auto``: OpenAI-compatible providers (local servers included)."""
        mode = self.settings.stream
        if mode != "auto":
            return mode == "on"
        try:
            return self._litellm.get_llm_provider(model)[1] in _OPENAI_COMPATIBLE
        except Exception:  # noqa: BLE001 - unmappable models fail in preflight
            return False

    def _call_with_retries(self, request: dict[str, Any], stage: str = "", label: str = "") -> Any:
        from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay
        from tenacity.wait import wait_random_exponential

        s = self.settings
        backoff = wait_random_exponential(multiplier=max(s.retry_base_delay, 1e-3), max=60)

        def wait(state) -> float:
            error = state.outcome.exception() if state.outcome else None
            hinted = _retry_after(error)
            seconds = min(hinted, 120.0) if hinted is not None else backoff(state)
            self._on_progress(Progress(stage, label, retry=state.attempt_number, reason=_retry_reason(error), wait=seconds))
            return seconds

        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            wait=wait,
            stop=stop_after_attempt(s.max_retries + 1) | stop_after_delay(s.retry_deadline),
            sleep=self._backoff,
            reraise=False,
        )
        kwargs = dict(request, timeout=s.timeout, num_retries=0, max_retries=0)
        api_key = api_key_for(s, request["model"])
        if api_key:
            kwargs["api_key"] = api_key
        streaming = self._streams(request["model"])
        try:
            return retrying(self._complete_once, kwargs, streaming, stage, label)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise self._provider_error(request["model"], last, attempts=exc.last_attempt.attempt_number) from None
        except Exception as exc:  # noqa: BLE001 - mapped to our errors below
            raise self._provider_error(request["model"], exc, attempts=1) from None

    def _parallel_requests(self) -> int:
        """Requests in flight at once: ``parallel_requests``, or 1 for a local server (a base URL).

        llama.cpp and Ollama serve one request at a time by default; a second one waits in their
        queue without a byte sent, so against an idle timeout it would only fail and be retried.
        """
        if self.settings.parallel_requests:
            return self.settings.parallel_requests
        return 1 if self.settings.base_url else max(self.settings.jobs, 1)

    def _backoff(self, seconds: float) -> None:
        """Wait between retries; a stopping run wakes it at once."""
        self._cancelled.wait(seconds)

    def cancel(self) -> None:
        """The run is stopping: calls not yet sent are not sent, streamed replies in flight are dropped."""
        self._cancelled.set()

    def _complete_once(self, kwargs: dict[str, Any], streaming: bool = False, stage: str = "", label: str = "") -> Any:
        with self._slots:
            if self._cancelled.is_set():  # the run stopped while this call waited for a slot
                raise RunCancelled
            return self._complete_in_slot(kwargs, streaming, stage, label)

    def _complete_in_slot(self, kwargs: dict[str, Any], streaming: bool, stage: str, label: str) -> Any:
        try:
            return self._completion(kwargs, streaming, stage, label)
        except Exception as exc:
            # Some OpenAI-compatible servers reject response_format: fall back to the prompt.
            if "response_format" in kwargs and type(exc).__name__ == "BadRequestError":
                self._schema_refused.add(kwargs["model"])
                retry = {k: v for k, v in kwargs.items() if k != "response_format"}
                return self._completion(retry, streaming, stage, label)
            raise

    def _completion(self, kwargs: dict[str, Any], streaming: bool, stage: str, label: str) -> Any:
        """One request; streamed replies are read to the end and assembled into one response."""
        if self._transport is not None:
            return self._transport(**kwargs)
        if not streaming:
            return self._litellm.completion(**kwargs)
        started = time.monotonic()
        s = self.settings
        # A local server (a base URL) serves one reply at a time: the first byte may wait out another
        # client's whole reply, so the read timeout is the queue's and the idle timeout is watched here.
        first_byte = max(s.timeout, s.queue_timeout) if s.base_url else s.timeout
        stream = self._litellm.completion(**{**kwargs, "timeout": first_byte}, stream=True, stream_options={"include_usage": True})
        chunks, ran_away = collect_stream(stream, started=started, reply_timeout=s.reply_timeout,
                                          on_progress=lambda tokens, seconds: self._on_progress(Progress(stage, label, tokens, seconds)),
                                          cancelled=self._cancelled.is_set, given=prompt_lines(kwargs["messages"]),
                                          idle_timeout=s.timeout if first_byte > s.timeout else None)
        response = self._litellm.stream_chunk_builder(chunks, messages=kwargs["messages"])
        if ran_away and getattr(response, "choices", None):
            response.choices[0].finish_reason = RUNAWAY
        return response

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
