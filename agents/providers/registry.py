"""``provider_for(spec)``: a spec such as ``openai:gpt-4o`` to a Provider.

Built-in providers register through ``register_provider``, the same hook a plugin would use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kernelwright.agents.providers.base import Provider, ProviderError, RetryPolicy
from kernelwright.agents.providers.keys import require_key
from kernelwright.agents.providers.prices import PriceLike


@dataclass(frozen=True)
class ProviderOptions:
    """What ``provider_for`` passes to a factory besides the model."""

    base_url: str | None = None
    keys: Mapping[str, str] = field(default_factory=dict)
    prices: Mapping[str, PriceLike] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


Factory = Callable[[str, ProviderOptions], Provider]

_FACTORIES: dict[str, Factory] = {}
# What follows the prefix, where it is not a model name.
_ARGUMENT = {"scripted": "<file>"}
# Specs that callers resolve themselves (the agent driver answers replay:<run> from its store).
OTHER_SPECS = ["replay:<run>"]


def register_provider(prefix: str, factory: Factory) -> None:
    """Make ``prefix:<model>`` build ``factory(model, options)``."""
    _FACTORIES[prefix] = factory


def provider_prefixes() -> list[str]:
    return sorted(_FACTORIES)


def provider_for(
    spec: str,
    *,
    base_url: str | None = None,
    keys: Mapping[str, str] | None = None,
    prices: Mapping[str, PriceLike] | None = None,
    retry: RetryPolicy | None = None,
) -> Provider:
    """The provider a spec names; a bad spec or a missing key is a usage ProviderError.

    ``keys`` (provider name to key) wins over the environment and the keys file; ``prices``
    overrides and extends the price table; ``retry`` bounds the retries.
    """
    prefix, sep, model = spec.partition(":")
    model = model.strip()
    if not sep or prefix not in _FACTORIES:
        raise ProviderError(
            f"unknown provider spec {spec!r}: use one of "
            + ", ".join(
                [f"{name}:{_ARGUMENT.get(name, '<model>')}" for name in provider_prefixes()]
                + OTHER_SPECS
            ),
            usage_error=True,
        )
    if not model:
        raise ProviderError(f"the spec {spec!r} names no model", usage_error=True)
    options = ProviderOptions(
        base_url=base_url, keys=keys or {}, prices=prices or {}, retry=retry or RetryPolicy()
    )
    return _FACTORIES[prefix](model, options)


def _openai(model: str, options: ProviderOptions) -> Provider:
    from kernelwright.agents.providers.openai_chat import OpenAIChatProvider

    return OpenAIChatProvider(
        model,
        api_key=require_key("openai", options.keys),
        base_url=options.base_url,
        prices=options.prices,
        retry=options.retry,
    )


def _openai_compatible(model: str, options: ProviderOptions) -> Provider:
    from kernelwright.agents.providers.keys import find_key
    from kernelwright.agents.providers.openai_chat import PLACEHOLDER_KEY, OpenAIChatProvider

    if not options.base_url:
        raise ProviderError(
            "openai-compatible needs the server's base URL (--base-url http://host:port/v1)",
            usage_error=True,
        )
    return OpenAIChatProvider(
        model,
        api_key=find_key("openai-compatible", options.keys) or PLACEHOLDER_KEY,
        base_url=options.base_url,
        compatible=True,
        prices=options.prices,
        retry=options.retry,
    )


def _anthropic(model: str, options: ProviderOptions) -> Provider:
    from kernelwright.agents.providers.anthropic_messages import AnthropicProvider

    return AnthropicProvider(
        model,
        api_key=require_key("anthropic", options.keys),
        base_url=options.base_url,
        prices=options.prices,
        retry=options.retry,
    )


def _scripted(path: str, options: ProviderOptions) -> Provider:
    from kernelwright.agents.providers.scripted import ScriptedProvider

    return ScriptedProvider(path)


register_provider("openai", _openai)
register_provider("openai-compatible", _openai_compatible)
register_provider("anthropic", _anthropic)
register_provider("scripted", _scripted)
