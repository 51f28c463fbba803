"""Settings: one typed object read from flags, then ``KERNELWRIGHT_*`` environment variables,
then a TOML file (``$KERNELWRIGHT_CONFIG`` or ``~/.config/kernelwright/config.toml``), then defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import tomllib


class ConfigError(ValueError):
    """A setting that cannot be used; the message is one line for the user."""


def _default_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    return Path(xdg) / "kernelwright" if xdg else Path.home() / ".local" / "share" / "kernelwright"


def _default_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "kernelwright" if xdg else Path.home() / ".cache" / "kernelwright"


@dataclass(frozen=True)
class Settings:
    """Everything a user can configure; the field names are the TOML keys and env suffixes."""

    home: Path = _default_home()
    cache_dir: Path = _default_cache()
    db: str | None = None
    sandbox: str = "auto"
    timeout: float = 300.0
    warmup_ms: float = 25.0
    rep_ms: float = 100.0
    trials: int = 2
    sampled_configs: int = 2
    compile_baseline: bool = True
    # Intra-op and OpenMP threads of every timing child; 0: all the CPUs this process may use but one.
    timing_threads: int = 0

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def _coerce(name: str, value: Any, kind: Any) -> Any:
    text = str(kind)
    try:
        if "Path" in text:
            return Path(str(value)).expanduser()
        if "bool" in text:
            return (
                value
                if isinstance(value, bool)
                else str(value).lower() in ("1", "true", "yes", "on")
            )
        if "float" in text:
            return float(value)
        if "int" in text:
            return int(value)
    except ValueError:
        raise ConfigError(f"setting {name}: {value!r} is not a valid {text}") from None
    return str(value)


def config_file() -> Path:
    explicit = os.environ.get("KERNELWRIGHT_CONFIG")
    return Path(explicit) if explicit else Path.home() / ".config" / "kernelwright" / "config.toml"


def load_settings(**flags: Any) -> Settings:
    """Settings with flags over environment over the TOML file over defaults."""
    values: dict[str, Any] = {}
    path = config_file()
    if path.is_file():
        try:
            values.update(tomllib.loads(path.read_text()))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
    known = {f.name: f.type for f in fields(Settings)}
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(f"config file {path}: unknown settings {sorted(unknown)}")
    for name in known:
        env = os.environ.get(f"KERNELWRIGHT_{name.upper()}")
        if env is not None:
            values[name] = env
    values.update({k: v for k, v in flags.items() if v is not None})
    coerced: dict[str, Any] = {
        k: _coerce(k, v, known[k]) for k, v in values.items() if v is not None
    }
    return Settings(**coerced)
