"""The response cache's key: a hash of the provider's identity and everything a request sends.

Two requests with the same key would get the same answer from a deterministic model, and a
sampling model's answer to one of them is as good as another's: a resumed run, a re-run and a
replay answer a request whose key is stored without paying for it again. The tag (which names the
call's place in the run, e.g. ``coder:smoke/relu:r2``) is part of the key, so that two samples of
one prompt stay two calls.
"""

from __future__ import annotations

import hashlib
import json

from kernelwright.agents.providers.base import Provider, Request


def identity_digest(provider: Provider) -> str:
    """A hash of what decides a provider's replies besides the request (never a key)."""
    return hashlib.sha256(provider.cache_identity.encode()).hexdigest()[:32]


def request_key(request: Request, identity: str) -> str:
    body = {
        "identity": identity,
        "model": request.model,
        "system": request.system,
        "messages": [[m.role, m.text] for m in request.messages],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "tag": request.tag,
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def prompt_text(request: Request) -> str:
    """The request as stored with its call: the system prompt and every message, labelled."""
    parts = [f"[system]\n{request.system}"] if request.system else []
    parts += [f"[{m.role}]\n{m.text}" for m in request.messages]
    return "\n\n".join(parts)
