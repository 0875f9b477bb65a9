"""An in-process fake model at the gateway seam (``Gateway.transport``), answering from a Scenario.

Unit tests of stages, pipeline, workspace, cache, API and UI use it: the same canned replies as
the fake HTTP server, without sockets, threads or litellm's HTTP client. Provider faults,
streaming, signals and providers' wire formats stay end to end, on ``fake_llm_server``.
"""

from __future__ import annotations

from typing import Any

from fake_llm_server import RecordingResponder, Request, _count_tokens

# litellm's exception class per HTTP status, so the gateway's retry and error mapping apply.
_ERRORS = {401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError", 400: "BadRequestError",
           429: "RateLimitError", 500: "InternalServerError", 502: "BadGatewayError", 503: "ServiceUnavailableError"}


class FakeModel(RecordingResponder):
    """A ``transport`` callable: records each request and answers with the responder's reply."""

    base_url = ""  # no server: runs use the provider's own (fake) key from the environment

    def __call__(self, **kwargs: Any) -> Any:
        import litellm

        body = {k: v for k, v in kwargs.items() if k in ("model", "messages", "max_tokens", "temperature",
                                                         "response_format")}
        req = Request(path="/v1/chat/completions", headers={}, body=body)
        reply = self.answer(req)
        if reply.status != 200:
            error = getattr(litellm, _ERRORS.get(reply.status, "APIError"))
            message = reply.content or f"fake error {reply.status}"
            if error is litellm.APIError:
                raise error(reply.status, message, llm_provider="openai", model=kwargs["model"])
            raise error(message, llm_provider="openai", model=kwargs["model"])
        prompt = reply.prompt_tokens if reply.prompt_tokens is not None else _count_tokens(req.text)
        completion = reply.completion_tokens if reply.completion_tokens is not None else _count_tokens(reply.content)
        return litellm.ModelResponse(
            model=kwargs["model"].split("/", 1)[-1],
            choices=[{"index": 0, "message": {"role": "assistant", "content": reply.content},
                      "finish_reason": reply.finish_reason}],
            usage={"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        )

    def __enter__(self) -> FakeModel:
        """Answer every gateway's calls until exit (like ``with FakeLLMServer(...)``, without a server)."""
        from swcompany.llm import Gateway

        self._previous = Gateway.default_transport
        Gateway.default_transport = self
        return self

    def __exit__(self, *exc: Any) -> None:
        from swcompany.llm import Gateway

        Gateway.default_transport = self._previous

    def calls(self, path_part: str = "") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if path_part in r.path]
