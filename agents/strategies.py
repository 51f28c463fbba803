"""Search strategies: how a task's candidates are proposed, one small class each.

A strategy sees a ``TaskSession`` (``agents/loop.py``): ``propose`` asks the Coder for one
candidate (from scratch, or improving a parent with the Judge's feedback) and returns it
verified; ``propose_all`` does several at once; ``stop_reason`` says when a budget or a target
ends the search. A strategy decides from verified results and its own seeded random numbers
only, so that a resumed run makes the same requests again and finds them answered.

Add one with ``register_strategy(name, factory)``; ``factory(**params)`` returns the strategy.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kernelwright.agents.loop import Node, TaskSession


@dataclass(frozen=True)
class Proposal:
    """One candidate to ask for: its label, the parent it improves and a second parent whose
    lesson is added (crossover)."""

    label: str
    parent: Node | None = None
    other: Node | None = None


class Strategy(ABC):
    name = ""

    @abstractmethod
    def run(self, session: TaskSession) -> None:
        """Propose candidates for the session's task until done or told to stop."""

    def params(self) -> dict[str, Any]:
        return {}


class Refine(Strategy):
    """One lineage: the Coder writes, the verifier decides, the Judge advises, for N rounds;
    each round improves the round before (fixing it when it failed)."""

    name = "refine"

    def __init__(self, rounds: int = 3) -> None:
        if rounds < 1:
            raise ValueError("refine needs at least one round")
        self.rounds = rounds

    def params(self) -> dict[str, Any]:
        return {"rounds": self.rounds}

    def run(self, session: TaskSession) -> None:
        node = session.propose(Proposal("r1"))
        for round_no in range(2, self.rounds + 1):
            if session.stop_reason() is not None:
                return
            node = session.propose(Proposal(f"r{round_no}", parent=node))


class BestOfN(Strategy):
    """N independent candidates at once; the fastest correct one is the result."""

    name = "best-of-n"

    def __init__(self, n: int = 4) -> None:
        if n < 1:
            raise ValueError("best-of-n needs n of at least 1")
        self.n = n

    def params(self) -> dict[str, Any]:
        return {"n": self.n}

    def run(self, session: TaskSession) -> None:
        session.propose_all([Proposal(f"n{i}") for i in range(1, self.n + 1)])


def fitness(node: Node) -> float:
    """A candidate's weight as a parent: its verified speedup when correct; a little for a
    failed one that holds code (it may be one fix away); nothing for a reply without code."""
    if node.correct:
        speedup = node.speedup
        return max(speedup, 0.05) if speedup is not None and math.isfinite(speedup) else 1.0
    return 0.05 if node.source is not None else 0.0


def select_parents(nodes: list[Node], k: int, rng: random.Random) -> list[Node]:
    """``k`` parents drawn by fitness, each used at most ceil(k/2) times while others remain, so
    that one lucky candidate does not take over the population."""
    pool = [n for n in nodes if fitness(n) > 0]
    if not pool:
        return []
    cap = max(1, math.ceil(k / 2))
    uses: dict[int, int] = {}
    chosen: list[Node] = []
    while len(chosen) < k:
        open_ = [n for n in pool if uses.get(id(n), 0) < cap] or pool
        node = rng.choices(open_, weights=[fitness(n) for n in open_])[0]
        uses[id(node)] = uses.get(id(node), 0) + 1
        chosen.append(node)
    return chosen


class Evolve(Strategy):
    """A population over generations: parents drawn by verified speedup with diversity kept,
    children written by the Coder from a parent and the Judge's advice, optionally crossing in
    a second correct parent's lesson."""

    name = "evolve"

    def __init__(self, population: int = 4, generations: int = 3, crossover: float = 0.0) -> None:
        if population < 1 or generations < 1:
            raise ValueError("evolve needs a population and generations of at least 1")
        if not 0.0 <= crossover <= 1.0:
            raise ValueError("crossover is a probability between 0 and 1")
        self.population = population
        self.generations = generations
        self.crossover = crossover

    def params(self) -> dict[str, Any]:
        return {
            "population": self.population,
            "generations": self.generations,
            "crossover": self.crossover,
        }

    def run(self, session: TaskSession) -> None:
        rng = session.rng
        everyone = session.propose_all([Proposal(f"g1.{i}") for i in range(1, self.population + 1)])
        for generation in range(2, self.generations + 1):
            if session.stop_reason() is not None:
                return
            parents = select_parents(everyone, self.population, rng)
            if not parents:  # nothing to improve: start afresh
                proposals = [Proposal(f"g{generation}.{i}") for i in range(1, self.population + 1)]
            else:
                proposals = []
                for i, parent in enumerate(parents, 1):
                    other = None
                    correct = [n for n in everyone if n.correct and n is not parent]
                    if correct and rng.random() < self.crossover:
                        other = rng.choice(correct)
                    proposals.append(Proposal(f"g{generation}.{i}", parent=parent, other=other))
            everyone += session.propose_all(proposals)


STRATEGIES: dict[str, Callable[..., Strategy]] = {
    Refine.name: Refine,
    Evolve.name: Evolve,
    BestOfN.name: BestOfN,
}


def register_strategy(name: str, factory: Callable[..., Strategy]) -> None:
    STRATEGIES[name] = factory


def make_strategy(name: str, **params: Any) -> Strategy:
    """The strategy ``name`` with the parameters it takes (others are ignored)."""
    factory = STRATEGIES.get(name)
    if factory is None:
        raise ValueError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}")
    import inspect

    accepted = inspect.signature(factory).parameters
    return factory(**{k: v for k, v in params.items() if k in accepted and v is not None})
