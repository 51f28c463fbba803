"""``openai:<model>`` and ``openai-compatible:<model>``: Chat Completions through the ``openai`` SDK.

The SDK's own retries are off (``max_retries=0``): the shared loop in ``base`` retries, so that
both SDKs back off alike and the attempts can be counted. The reply is parsed from the body the
server sent, which is also what ``Reply.raw`` keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import openai

from kernelwright.agents.providers.base import (
    Failure,
    Request,
    RetryPolicy,
)
from kernelwright.agents.providers.failures import (
    CallContext,
    MalformedReply,
    body_failure,
    connection_failure,
    parse_body,
    status_failure,
    timeout_failure,
    token_count,
)
from kernelwright.agents.providers.prices import PriceLike
from kernelwright.agents.providers.sdk import SdkProvider

# Servers such as vLLM or Ollama often take no key, but the SDK insists on one.
PLACEHOLDER_KEY = "no-key"


class OpenAIChatProvider(SdkProvider):
    """A model behind an OpenAI Chat Completions endpoint.

    ``compatible`` marks a self-hosted server (vLLM, SGLang, Ollama, llama.cpp): it is sent
    ``max_tokens`` (which they all read) instead of ``max_completion_tokens``, and only the
    ``prices`` given here price its models, never OpenAI's table.
    """

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str | None = None,
        compatible: bool = False,
        prices: Mapping[str, PriceLike] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.name = "openai-compatible" if compatible else "openai"
        self.compatible = compatible
        # base_url None lets the SDK read OPENAI_BASE_URL, as it does for everyone.
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0)
        super().__init__(
            model,
            api_key=api_key,
            endpoint=str(self._client.base_url),
            prices=prices,
            retry=retry,
            builtin_prices=not compatible,
        )

    def _read_reply(self, body: dict[str, Any]) -> tuple[str, int | None, int | None]:
        return _read_reply(body)

    def _classify(self, ctx: CallContext, exc: Exception) -> Failure | None:
        return _classify(ctx, exc)

    def _post(self, request: Request, model: str) -> dict[str, Any]:
        messages: list[Any] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.extend({"role": m.role, "content": m.text} for m in request.messages)
        limit: dict[str, Any] = (
            {"max_tokens": request.max_tokens}
            if self.compatible
            else {"max_completion_tokens": request.max_tokens}
        )
        if request.temperature is not None:
            limit["temperature"] = request.temperature
        raw = self._client.chat.completions.with_raw_response.create(
            model=model, messages=messages, timeout=request.timeout_s, **limit
        )
        body = parse_body(raw.http_response.text)
        _read_reply(body)  # a malformed body is retried like a server error
        return body


def _read_reply(body: dict[str, Any]) -> tuple[str, int | None, int | None]:
    """Text and token counts of a Chat Completions body, or MalformedReply."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedReply("no choices")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise MalformedReply("no message")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise MalformedReply("content is not text")
    usage = body.get("usage")
    return (
        content or "",
        token_count(usage, "prompt_tokens"),
        token_count(usage, "completion_tokens"),
    )


def _classify(ctx: CallContext, exc: Exception) -> Failure | None:
    if isinstance(exc, openai.APIStatusError):
        return status_failure(ctx, exc.status_code, exc.response.headers, exc.body)
    if isinstance(exc, openai.APITimeoutError):
        return timeout_failure(ctx)
    if isinstance(exc, openai.APIConnectionError):
        return connection_failure(ctx)
    if isinstance(exc, openai.APIResponseValidationError):
        return body_failure(ctx, MalformedReply(str(exc)))
    return body_failure(ctx, exc)
