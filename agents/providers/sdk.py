"""What the SDK-backed providers share: one call is the retry loop around a request, then the
reply read, priced and timed. A provider says how to post, how to read a body and how to sort
a failure."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

from kernelwright.agents.providers.base import (
    Failure,
    Provider,
    Reply,
    Request,
    RetryPolicy,
    public_url,
    url_secrets,
    with_retries,
)
from kernelwright.agents.providers.failures import CallContext
from kernelwright.agents.providers.prices import PriceLike, cost_usd


class SdkProvider(Provider):
    """A provider whose requests go through an official SDK over HTTP."""

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        endpoint: str,
        prices: Mapping[str, PriceLike] | None,
        retry: RetryPolicy | None,
        builtin_prices: bool = True,
    ) -> None:
        super().__init__(model)
        self.prices = dict(prices or {})
        self.retry = retry or RetryPolicy()
        # Shown in every message and kept in the cache identity: never the URL's credentials,
        # which are masked wherever an SDK's own error text repeats them.
        self.endpoint = public_url(endpoint.rstrip("/"))
        self._secrets = (api_key, *url_secrets(endpoint))
        self._builtin_prices = builtin_prices

    @property
    def cache_identity(self) -> str:
        return f"{self.spec}@{self.endpoint}"

    @abstractmethod
    def _post(self, request: Request, model: str) -> dict[str, Any]:
        """One attempt: the parsed body of the reply (raises on any failure)."""

    @abstractmethod
    def _read_reply(self, body: dict[str, Any]) -> tuple[str, int | None, int | None]:
        """The text and the prompt and completion token counts of a reply body."""

    @abstractmethod
    def _classify(self, ctx: CallContext, exc: Exception) -> Failure | None:
        """What a failed attempt means: retry, give up, or a usage error; None for a bug."""

    def complete(self, request: Request) -> Reply:
        model = request.model or self.model
        ctx = CallContext(self.name, model, self.endpoint, request.timeout_s)
        started = time.perf_counter()
        body, attempts = with_retries(
            lambda: self._post(request, model),
            lambda exc: self._classify(ctx, exc),
            self.retry,
            secrets=self._secrets,
        )
        latency = time.perf_counter() - started
        text, prompt_tokens, completion_tokens = self._read_reply(body)
        cost = None
        if prompt_tokens is not None and completion_tokens is not None:
            cost = cost_usd(
                model, prompt_tokens, completion_tokens, self.prices, builtin=self._builtin_prices
            )
        return Reply(
            text=text,
            prompt_tokens=prompt_tokens or 0,
            completion_tokens=completion_tokens or 0,
            cost_usd=cost,
            latency_s=latency,
            raw=body,
            provider=self.name,
            model=model,
            attempts=attempts.count,
        )
