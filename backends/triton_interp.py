"""Triton's interpreter in the child: what a candidate needs from it beyond ``TRITON_INTERPRET``.

Autotuning benchmarks every config on a GPU driver, and the interpreter has none ("0 active
drivers"). On the interpreter an autotuned kernel runs without benchmarking instead: each call
takes the next of its configs in turn, so successive calls (and so the correctness trials) check
the kernel with every config it could be tuned to on a GPU, and the log says which one ran.
"""

from __future__ import annotations

import sys
from typing import Any

_INSTALLED = "_kernelwright_interpreted"


def install_interpreter_hooks() -> None:
    """Called by the worker before the candidate is imported, when the interpreter is on."""
    _hook_autotuner()


def _hook_autotuner() -> None:
    try:
        from triton.runtime.autotuner import Autotuner
    except ImportError:
        return
    if getattr(Autotuner, _INSTALLED, False):
        return
    Autotuner.run = _run_in_turn
    setattr(Autotuner, _INSTALLED, True)


def _configs_for(tuner: Any, kwargs: dict[str, Any]) -> list[Any]:
    """The configs autotuning would benchmark for these arguments.

    ``early_config_prune`` drops configs that are invalid for the arguments, so it is kept; a
    ``perf_model`` only ranks valid configs by predicted speed (often from GPU properties that the
    interpreter lacks), so every config it would rank is checked.
    """
    configs = list(tuner.configs)
    if len(configs) > 1 and tuner.early_config_prune:
        configs = list(tuner.early_config_prune(configs, tuner.nargs, **kwargs))
        if not configs:
            raise RuntimeError(
                "early_config_prune returned no config: it should return at least one"
            )
    return configs


def _tuning_key(tuner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The key autotuning caches its choice under (the ``key`` arguments and the dtypes)."""
    named = {k: v for k, v in {**tuner.nargs, **kwargs}.items() if k in tuner.arg_names}
    key: list[Any] = [named[k] for k in tuner.keys if k in named]
    key += [str(v.dtype) for v in named.values() if hasattr(v, "dtype")]
    return tuple(key)


def _run_in_turn(self: Any, *args: Any, **kwargs: Any) -> Any:
    """``Autotuner.run`` without benchmarking: the next config each call."""
    self.nargs = dict(zip(self.arg_names, args, strict=False))
    try:
        configs = _configs_for(self, kwargs)
        turn = getattr(self, "_kernelwright_turn", 0)
        self._kernelwright_turn = turn + 1
        config = configs[turn % len(configs)]
        if len(configs) > 1:
            key = _tuning_key(self, args, kwargs)
            tuned = self.__dict__.setdefault("_kernelwright_keys", set())
            if key not in tuned:
                # Tuning a new key resets the ``reset_to_zero`` arguments after its benchmarks.
                tuned.add(key)
                self.pre_hook({**self.nargs, **kwargs, **config.all_kwargs()}, reset_only=True)
        self.best_config = config
        _say_once(self, config, turn % len(configs) + 1, len(configs))
        if config.pre_hook is not None:
            config.pre_hook({**self.nargs, **kwargs, **config.all_kwargs()})
        return self.fn.run(*args, **kwargs, **config.all_kwargs())
    finally:
        self.nargs = None


def _say_once(tuner: Any, config: Any, index: int, count: int) -> None:
    """One line on stderr the first time each config runs, so the log says what was checked."""
    said = tuner.__dict__.setdefault("_kernelwright_said", set())
    text = ", ".join(
        [f"{k}={v}" for k, v in config.kwargs.items()]
        + [f"num_warps={config.num_warps}", f"num_stages={config.num_stages}"]
    )
    if text in said:
        return
    said.add(text)
    name = getattr(getattr(tuner, "base_fn", None), "__name__", "kernel")
    print(
        f"[triton interpreter] autotuned {name}: ran config {index} of {count} ({text}), "
        "no benchmarking",
        file=sys.stderr,
    )
