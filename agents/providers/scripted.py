"""``scripted:<file>``: replies read from a JSON file, for tests and offline demos.

The file holds either a list of reply texts, answered in order whatever is asked::

    ["first reply", "second reply"]

or an object whose keys are request tags (``Request.tag``), each with its own list, answered in
order to the calls with that tag. A tag not listed falls back to its prefixes, cut at each
``:`` (``coder:smoke/relu:r2``, then ``coder:smoke/relu``, then ``coder``); the key ``"*"``
serves any tag with no listed prefix::

    {"coder": ["```python\\n...\\n```"], "judge": ["{\\"critical_issue\\": ...}"], "*": []}

Keying by tag keeps a script deterministic when calls for several tasks or roles overlap. A call
for which the script has no reply left raises ProviderError. Usage and cost are zero. A resumed
run asks only for what it has not stored, and a queue starts from its first reply in every
process: a script meant to be resumed gives each tag its own key.
"""

from __future__ import annotations

import hashlib
import json
import stat
import threading
import time
from pathlib import Path

from kernelwright.agents.providers.base import Provider, ProviderError, Reply, Request

ANY_TAG = "*"


class ScriptedProvider(Provider):
    """Answers from a script file; ``latency_s`` adds an artificial delay to every reply."""

    name = "scripted"

    def __init__(self, path: str | Path, *, latency_s: float = 0.0) -> None:
        super().__init__(str(path))
        self.path = Path(path)
        self.latency_s = latency_s
        self._queues = load_script(self.path)
        self._next = dict.fromkeys(self._queues, 0)
        self._lock = threading.Lock()

    @property
    def cache_identity(self) -> str:
        # A changed script answers differently: its content is part of what decides a reply.
        return f"{self.spec}#{hashlib.sha256(self.path.read_bytes()).hexdigest()}"

    def complete(self, request: Request) -> Reply:
        started = time.perf_counter()
        queue = queue_for(request.tag, self._queues)
        with self._lock:
            replies = self._queues.get(queue, [])
            index = self._next.get(queue, 0)
            if index >= len(replies):
                which = "" if queue == ANY_TAG else f" for tag {queue!r}"
                raise ProviderError(
                    f"the script {self.path} has no reply left{which} (it holds {len(replies)})"
                )
            self._next[queue] = index + 1
        if self.latency_s > 0:
            time.sleep(self.latency_s)
        return Reply(
            text=replies[index],
            prompt_tokens=0,
            completion_tokens=0,
            cost_usd=0.0,
            latency_s=time.perf_counter() - started,
            raw={"script": str(self.path), "tag": queue, "index": index},
            provider=self.name,
            model=request.model or self.model,
        )


def queue_for(tag: str, queues: dict[str, list[str]]) -> str:
    """The queue that answers ``tag``: the tag itself, its longest listed prefix, or ``"*"``."""
    parts = tag.split(":") if tag else []
    while parts:
        candidate = ":".join(parts)
        if candidate in queues:
            return candidate
        parts.pop()
    return ANY_TAG


MAX_SCRIPT_BYTES = 64 << 20


def load_script(path: Path) -> dict[str, list[str]]:
    """The reply queues of a script file, keyed by tag (``"*"`` for a plain list)."""
    try:
        mode = path.stat()
        if not stat.S_ISREG(mode.st_mode):
            raise ProviderError(f"the script {path} is not a regular file", usage_error=True)
        if mode.st_size > MAX_SCRIPT_BYTES:
            raise ProviderError(
                f"the script {path} is larger than {MAX_SCRIPT_BYTES >> 20} MiB", usage_error=True
            )
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProviderError(f"no script file {path}", usage_error=True) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProviderError(f"cannot read the script {path}: {exc}", usage_error=True) from None
    queues = {ANY_TAG: data} if isinstance(data, list) else data
    if not isinstance(queues, dict) or not all(
        isinstance(replies, list) and all(isinstance(text, str) for text in replies)
        for replies in queues.values()
    ):
        raise ProviderError(
            f"the script {path} must be a JSON list of reply texts, or an object of such lists "
            "keyed by tag",
            usage_error=True,
        )
    return queues
