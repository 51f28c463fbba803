"""How a failed HTTP call is classified: retry it, give up, or tell the user to fix something.

Shared by the SDK-backed providers so that openai and anthropic fail in the same words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kernelwright.agents.providers.base import Failure, retry_after_s


class MalformedReply(Exception):
    """The server answered 2xx with a body that is not the reply its API documents."""


@dataclass(frozen=True)
class CallContext:
    """Who was called, for the messages."""

    provider: str
    model: str
    endpoint: str
    timeout_s: float


def status_failure(ctx: CallContext, status: int, headers: Any, body: object) -> Failure:
    """The failure for an HTTP error status."""
    detail = _server_message(body)
    if status == 401:
        return Failure(
            f"the key for {ctx.provider} was refused ({ctx.endpoint} answered 401)",
            retryable=False,
            usage_error=True,
        )
    if status == 403:
        return Failure(
            f"the key for {ctx.provider} may not use model {ctx.model!r} (403{_colon(detail)})",
            retryable=False,
            usage_error=True,
        )
    if status == 404:
        return Failure(
            f"unknown model {ctx.model!r} for {ctx.provider} ({ctx.endpoint} answered 404"
            f"{_colon(detail)})",
            retryable=False,
            usage_error=True,
        )
    if status == 429 and _error_code(body) == "insufficient_quota":
        return Failure(
            f"{ctx.provider} refused the call: the account has no quota left{_colon(detail)}",
            retryable=False,
            usage_error=True,
        )
    retryable = status in (408, 409, 429) or status >= 500
    what = "rate limited" if status == 429 else f"HTTP {status}"
    return Failure(
        f"{ctx.provider} {what} at {ctx.endpoint}{_colon(detail)}",
        retryable=retryable,
        retry_after_s=retry_after_s(headers),
    )


def timeout_failure(ctx: CallContext) -> Failure:
    return Failure(
        f"{ctx.provider} did not answer within {ctx.timeout_s:g} s at {ctx.endpoint}",
        retryable=True,
    )


def connection_failure(ctx: CallContext) -> Failure:
    return Failure(f"cannot reach {ctx.provider} at {ctx.endpoint}", retryable=True)


def body_failure(ctx: CallContext, exc: Exception) -> Failure | None:
    """The failure for a reply that did not parse, or None if ``exc`` is something else."""
    if isinstance(exc, json.JSONDecodeError | MalformedReply | UnicodeDecodeError):
        return Failure(f"{ctx.provider} sent a malformed reply from {ctx.endpoint}", retryable=True)
    return None


def parse_body(text: str) -> dict[str, Any]:
    """The JSON object of a 2xx reply, or MalformedReply."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        raise MalformedReply("not JSON") from None
    if not isinstance(body, dict):
        raise MalformedReply("not a JSON object")
    return body


def token_count(usage: object, name: str) -> int | None:
    """A non-negative integer count from a usage object, or None when it is absent."""
    if not isinstance(usage, dict):
        return None
    value = usage.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _error_object(body: object) -> dict[str, Any]:
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return inner
    return {}


def _error_code(body: object) -> str:
    error = _error_object(body)
    return str(error.get("code") or error.get("type") or "")


def _server_message(body: object) -> str:
    message = _error_object(body).get("message")
    if isinstance(message, str):
        return message
    return body if isinstance(body, str) else ""


def _colon(detail: str) -> str:
    return f": {detail}" if detail else ""
