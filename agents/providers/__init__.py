"""LLM providers behind one interface: a Request in; a Reply (text, tokens, cost, latency, raw) out.

Specs: ``openai:<model>``, ``openai-compatible:<model>`` (with a base URL), ``anthropic:<model>``,
``scripted:<file>``. Keys come from the provider's environment variable or the keys file (mode
600), never from anywhere silent; no key is ever put in a Reply, an error or a repr.

Imports only the standard library and the ``openai`` and ``anthropic`` SDKs (those lazily, when a
provider that needs one is built); nothing else of kernelwright.
"""

from kernelwright.agents.providers.base import (
    Message,
    Provider,
    ProviderError,
    Reply,
    Request,
    RetryPolicy,
)
from kernelwright.agents.providers.prices import PRICES, Price, cost_usd, price_for
from kernelwright.agents.providers.registry import (
    ProviderOptions,
    provider_for,
    provider_prefixes,
    register_provider,
)

__all__ = [
    "PRICES",
    "Message",
    "Price",
    "Provider",
    "ProviderError",
    "ProviderOptions",
    "Reply",
    "Request",
    "RetryPolicy",
    "cost_usd",
    "price_for",
    "provider_for",
    "provider_prefixes",
    "register_provider",
]
