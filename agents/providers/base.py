"""The provider interface: a request in; text, token usage, cost, latency and the raw reply out.

Also the retry loop every network provider shares, so that rate limits and server errors are
retried the same way whichever SDK is underneath.
"""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlsplit

Role = Literal["user", "assistant"]

T = TypeVar("T")


class ProviderError(Exception):
    """One line saying what went wrong with an LLM call.

    ``usage_error`` is true when the user must fix something before any call can succeed (a
    missing or refused key, an unknown model, a bad spec): the CLI exits 2 on it. Other failures
    (the server kept failing after the retries) are not usage errors.
    """

    def __init__(
        self, message: str, *, usage_error: bool = False, secrets: Iterable[str] = ()
    ) -> None:
        self.usage_error = usage_error
        super().__init__(one_line(message, secrets))


def public_url(url: str) -> str:
    """``url`` without credentials, query or fragment: what may be shown or stored."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def url_secrets(url: str) -> list[str]:
    """The parts of ``url`` that may be credentials: user, password, query values, fragment."""
    parts = urlsplit(url)
    found = [parts.username or "", parts.password or "", parts.fragment]
    found += [value for _, value in parse_qsl(parts.query, keep_blank_values=False)]
    return [value for value in found if len(value) >= 3]


def one_line(text: str, secrets: Iterable[str] = (), limit: int = 300) -> str:
    """``text`` on one line, at most ``limit`` characters, with every secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Message:
    """One turn of the conversation."""

    role: Role
    text: str

    def __post_init__(self) -> None:
        if self.role not in ("user", "assistant"):
            raise ValueError(f"a message's role is 'user' or 'assistant', not {self.role!r}")


@dataclass(frozen=True)
class Request:
    """What is asked of the model.

    ``model`` None means the model named in the provider's spec. ``temperature`` None leaves the
    server's default (some reasoning models refuse any other value). ``timeout_s`` bounds each
    attempt, not the retries together. ``tag`` labels the call (e.g. ``coder:smoke/relu``): the
    scripted provider keys its replies by it; the others ignore it.
    """

    messages: tuple[Message, ...]
    system: str = ""
    model: str | None = None
    max_tokens: int = 4096
    temperature: float | None = None
    timeout_s: float = 600.0
    tag: str = ""

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValueError("a request needs at least one message")
        if self.max_tokens <= 0:
            raise ValueError("max_tokens must be positive")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")

    @classmethod
    def of(cls, prompt: str, *, system: str = "", **options: Any) -> Request:
        """A request of one user message."""
        return cls(messages=(Message("user", prompt),), system=system, **options)


@dataclass(frozen=True)
class Reply:
    """What came back: the text, the usage, its cost and the provider's response as JSON.

    ``cost_usd`` is None when the model has no price. ``latency_s`` is the whole call, retries
    and their waits included. ``raw`` is the body the server sent (never a header, never a key).
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_s: float
    raw: dict[str, Any]
    provider: str
    model: str
    attempts: int = 1


class Provider(ABC):
    """A model behind one method. Subclasses hold no key in an attribute that a repr shows."""

    #: The spec prefix, e.g. ``openai``.
    name: str = ""

    def __init__(self, model: str) -> None:
        self.model = model

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.model}"

    @property
    def cache_identity(self) -> str:
        """What, besides the request, decides the reply: the response cache keys on a hash of
        it. Never holds a key (a URL's credentials are left out)."""
        return self.spec

    @abstractmethod
    def complete(self, request: Request) -> Reply:
        """Answer ``request`` or raise ProviderError."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry rate limits and server errors.

    The wait before retry ``n`` (1-based) is ``initial_delay_s * 2**(n-1)``, capped at
    ``max_delay_s``, less up to a quarter at random; a server's retry-after is honoured as a
    minimum instead, up to ``max_retry_after_s`` (beyond that the call fails at once).
    """

    max_attempts: int = 5
    initial_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, retry: int) -> float:
        delay = min(self.initial_delay_s * 2 ** (retry - 1), self.max_delay_s)
        return delay * (1 - 0.25 * random.random())


@dataclass
class Failure:
    """One failed attempt, as the provider classified it."""

    message: str
    retryable: bool
    usage_error: bool = False
    retry_after_s: float | None = None


@dataclass
class Attempts:
    """What the retry loop did: the attempts made and the waits between them."""

    count: int = 0
    waits_s: list[float] = field(default_factory=list)


def with_retries(
    attempt: Callable[[], T],
    classify: Callable[[Exception], Failure | None],
    policy: RetryPolicy,
    *,
    secrets: Iterable[str] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, Attempts]:
    """Run ``attempt`` until it succeeds, retrying what ``classify`` calls retryable.

    ``classify`` returns None for an exception it does not know, which then propagates as is (a
    bug, not a server failure).
    """
    done = Attempts()
    while True:
        done.count += 1
        try:
            return attempt(), done
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
        if not failure.retryable:
            raise ProviderError(failure.message, usage_error=failure.usage_error, secrets=secrets)
        if done.count >= policy.max_attempts:
            raise ProviderError(
                f"{failure.message} (gave up after {done.count} attempts)", secrets=secrets
            )
        wait = policy.backoff(done.count)
        if failure.retry_after_s is not None:
            if failure.retry_after_s > policy.max_retry_after_s:
                raise ProviderError(
                    f"{failure.message} (the server asks to wait {failure.retry_after_s:g} s, "
                    f"more than the {policy.max_retry_after_s:g} s allowed)",
                    secrets=secrets,
                )
            wait = max(failure.retry_after_s, 0.0)
        done.waits_s.append(wait)
        sleep(wait)


def retry_after_s(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date), if any."""
    if headers is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if seconds == seconds and seconds >= 0:  # not NaN
            return seconds
    value = headers.get("retry-after")
    if value:
        import email.utils

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(when.timestamp() - time.time(), 0.0)
    return None
