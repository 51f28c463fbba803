"""``replay:<run>``: answers from the LLM calls stored with an earlier run, offline and free.

A request is answered by the stored call with the same key (the run is driven the way it was:
same prompts, same tags), or else by the next stored reply with the same tag, so that a replay
on another machine, whose device facts change the prompts, still follows the stored run. A
request the run never made is an error, never a fallback to a live model.
"""

from __future__ import annotations

import threading
import time

from kernelwright.agents.providers.base import Provider, ProviderError, Reply, Request
from kernelwright.runs.agent_records import REUSABLE, StoredCall, run_calls
from kernelwright.runs.store import Store


class ReplayProvider(Provider):
    name = "replay"

    def __init__(self, store: Store, run_id: int) -> None:
        super().__init__(str(run_id))
        info = store.get_run(run_id)
        agent = info.options.get("agent")
        if not isinstance(agent, dict) or not isinstance(agent.get("identity"), str):
            raise ProviderError(
                f"run {run_id} is not an agent run (it stored no LLM calls to replay)",
                usage_error=True,
            )
        #: The identity digest the original calls were keyed with.
        self.identity = agent["identity"]
        self.original = info.model or "?"
        self.run_id = run_id
        calls = [c for c in run_calls(store, run_id) if c.outcome in REUSABLE]
        self._by_tag: dict[str, list[StoredCall]] = {}
        for call in calls:
            self._by_tag.setdefault(call.tag or "", []).append(call)
        self._used: set[int] = set()
        self._lock = threading.Lock()

    @property
    def cache_identity(self) -> str:
        return f"replay:{self.run_id}"

    def complete(self, request: Request) -> Reply:
        started = time.perf_counter()
        with self._lock:
            found = next(
                (c for c in self._by_tag.get(request.tag, []) if c.id not in self._used), None
            )
            if found is None:
                raise ProviderError(
                    f"run {self.run_id} holds no reply for the call {request.tag or '(untagged)'}: "
                    "the replay has left the stored run",
                    usage_error=True,
                )
            self._used.add(found.id)
        return Reply(
            text=found.response,
            prompt_tokens=0,
            completion_tokens=0,
            cost_usd=0.0,
            latency_s=time.perf_counter() - started,
            raw={"replay_of": found.id},
            provider=self.name,
            model=found.model,
        )
