"""``anthropic:<model>``: the Messages API through the ``anthropic`` SDK.

As for openai, the SDK's retries are off and the shared loop in ``base`` retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anthropic

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


class AnthropicProvider(SdkProvider):
    """A Claude model behind the Messages API."""

    name = "anthropic"

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str | None = None,
        prices: Mapping[str, PriceLike] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        # base_url None lets the SDK read ANTHROPIC_BASE_URL.
        self._client = anthropic.Anthropic(api_key=api_key, base_url=base_url, max_retries=0)
        super().__init__(
            model,
            api_key=api_key,
            endpoint=str(self._client.base_url),
            prices=prices,
            retry=retry,
        )

    def _read_reply(self, body: dict[str, Any]) -> tuple[str, int | None, int | None]:
        return _read_reply(body)

    def _classify(self, ctx: CallContext, exc: Exception) -> Failure | None:
        return _classify(ctx, exc)

    def _post(self, request: Request, model: str) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if request.system:
            options["system"] = request.system
        if request.temperature is not None:
            # This SDK's create() no longer takes temperature; the API still reads it.
            options["extra_body"] = {"temperature": request.temperature}
        messages: list[Any] = [{"role": m.role, "content": m.text} for m in request.messages]
        raw = self._client.messages.with_raw_response.create(
            model=model,
            max_tokens=request.max_tokens,
            messages=messages,
            timeout=request.timeout_s,
            **options,
        )
        body = parse_body(raw.http_response.text)
        _read_reply(body)  # a malformed body is retried like a server error
        return body


def _read_reply(body: dict[str, Any]) -> tuple[str, int | None, int | None]:
    """Text and token counts of a Messages body, or MalformedReply."""
    content = body.get("content")
    if not isinstance(content, list):
        raise MalformedReply("no content")
    texts = []
    for block in content:
        if not isinstance(block, dict):
            raise MalformedReply("a content block is not an object")
        if block.get("type") == "text":
            if not isinstance(block.get("text"), str):
                raise MalformedReply("a text block without text")
            texts.append(block["text"])
    usage = body.get("usage")
    return (
        "".join(texts),
        token_count(usage, "input_tokens"),
        token_count(usage, "output_tokens"),
    )


def _classify(ctx: CallContext, exc: Exception) -> Failure | None:
    if isinstance(exc, anthropic.APIStatusError):
        return status_failure(ctx, exc.status_code, exc.response.headers, exc.body)
    if isinstance(exc, anthropic.APITimeoutError):
        return timeout_failure(ctx)
    if isinstance(exc, anthropic.APIConnectionError):
        return connection_failure(ctx)
    if isinstance(exc, anthropic.APIResponseValidationError):
        return body_failure(ctx, MalformedReply(str(exc)))
    return body_failure(ctx, exc)
