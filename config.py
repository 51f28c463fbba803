"""Settings: one typed object read from flags, then ``KERNELWRIGHT_*`` environment variables,
then a TOML file (``$KERNELWRIGHT_CONFIG`` or ``~/.config/kernelwright/config.toml``), then defaults.

Every value is checked here, once: a bad one is a ``ConfigError`` of one line that names the
setting, where the value came from and what the setting expects, e.g.
``setting timeout (config file /x/config.toml): -5 is not a positive number of seconds``.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomllib

SANDBOX_LEVELS = ("auto", "bwrap", "docker", "process")
# Backend names as SQLAlchemy reports them; postgres:// is read as postgresql:// by the store.
DB_BACKENDS = ("sqlite", "postgresql", "postgres")
_TRUE_WORDS = ("1", "true", "yes", "on")
_FALSE_WORDS = ("0", "false", "no", "off")
# Longer values are cut in messages: a pasted file in an environment variable is not worth echoing.
_SHOWN_CHARS = 80

if TYPE_CHECKING:
    from kernelwright.verifier import EvalOptions


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

    # Factories, so that the defaults follow $HOME and $XDG_* when settings are loaded, not
    # when this module was first imported.
    home: Path = field(default_factory=_default_home)
    cache_dir: Path = field(default_factory=_default_cache)
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
    # Start each phase's sandboxed child while the phase before it runs (never during timing).
    warm_workers: bool = True
    # A timing loop may end once its median is known to within this fraction; 0: never early.
    timing_precision: float = 0.02
    # Profile every correct candidate with its backend's profiler (ncu, rocprofv3, JAX's) in one
    # more sandboxed child; the Judge reads the metrics. Where no profiler can run, the verdict
    # says why and nothing else changes.
    profile: bool = False
    # Time a launch-bound candidate's forward as CUDA graph replays too, reported apart.
    cuda_graph: bool = False
    # The config file's [prices] table: model -> (USD per million input, output tokens), over
    # the built-in price table (agents/providers/prices.py).
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    def eval_options(self, **overrides: Any) -> EvalOptions:
        """The verifier's options for one evaluation under these settings."""
        from kernelwright.verifier import EvalOptions

        values: dict[str, Any] = {
            "cache_dir": self.cache_dir,
            "timeout": self.timeout,
            "sandbox": self.sandbox,
            "warmup_ms": self.warmup_ms,
            "rep_ms": self.rep_ms,
            "trials": self.trials,
            "sampled_configs": self.sampled_configs,
            "compile_baseline": self.compile_baseline,
            "threads": self.timing_threads or None,
            "warm_workers": self.warm_workers,
            "precision": self.timing_precision,
            "profile": self.profile,
            "cuda_graph": self.cuda_graph,
        }
        return EvalOptions(**{**values, **overrides})


class _Unfit(Exception):
    """A value that does not fit its setting; the message, if any, replaces the usual expectation."""


@dataclass(frozen=True)
class _Given:
    """One setting's value as given, where it came from, and whether it may be text to parse."""

    value: Any
    source: str
    textual: bool


def _printable(text: str) -> str:
    """``text`` itself if it is one printable line, else its escaped form."""
    return text if text.isprintable() else repr(text)[1:-1]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _number(given: _Given) -> float:
    value = given.value
    if isinstance(value, bool):
        raise _Unfit
    try:
        # Text only from env and flags: in TOML, timeout = "5" is a string, not a number.
        if not (isinstance(value, int | float) or isinstance(value, str) and given.textual):
            raise _Unfit
        number = float(value)
    except (ValueError, OverflowError):
        raise _Unfit from None
    if not math.isfinite(number):
        raise _Unfit
    return number


def _whole(given: _Given) -> int:
    value = given.value
    if isinstance(value, bool):
        raise _Unfit
    if isinstance(value, int):
        return value
    if isinstance(value, str) and given.textual:
        try:
            return int(value)
        except ValueError:
            raise _Unfit from None
    raise _Unfit


def _at_least(
    minimum: float, parse: Callable[[_Given], Any], maximum: float = math.inf
) -> Callable[[_Given], Any]:
    def check(given: _Given) -> Any:
        value = parse(given)
        if not minimum <= value <= maximum:
            raise _Unfit
        return value

    return check


def _up_to(maximum: float) -> Callable[[_Given], float]:
    """A positive number no larger than ``maximum`` (a value past it is surely a mistake)."""

    def check(given: _Given) -> float:
        number = _positive(given)
        if number > maximum:
            raise _Unfit
        return number

    return check


def _positive(given: _Given) -> float:
    number = _number(given)
    if number <= 0:
        raise _Unfit
    return number


def _boolean(given: _Given) -> bool:
    value = given.value
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and given.textual:
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise _Unfit


def _folder(given: _Given) -> Path:
    value = given.value
    if isinstance(value, os.PathLike) and given.textual:
        value = os.fspath(value)
    if not isinstance(value, str) or not value or "\0" in value:
        raise _Unfit
    try:
        return Path(value).expanduser()
    except RuntimeError:  # ~user of an unknown user, or no home to expand ~ to
        raise _Unfit("a folder path (cannot expand its ~)") from None


def _sandbox(given: _Given) -> str:
    if not isinstance(given.value, str) or given.value not in SANDBOX_LEVELS:
        raise _Unfit
    return given.value


def _database(given: _Given) -> str | None:
    value = given.value
    if isinstance(value, os.PathLike) and given.textual:
        value = os.fspath(value)
    if not isinstance(value, str):
        raise _Unfit
    if not value:
        return None
    if "\0" in value:
        raise _Unfit
    if "://" not in value:
        return value  # a SQLite file path
    from sqlalchemy.engine import make_url

    try:
        url = make_url(value)
        backend = url.get_backend_name()
        port = url.port
    except ValueError:  # make_url's int() of the port
        raise _Unfit("a database URL with a port from 1 to 65535") from None
    except Exception:  # ArgumentError, or whatever else: the URL cannot be used
        raise _Unfit("a database URL (sqlite:///PATH or postgresql://USER@HOST/DB)") from None
    if backend not in DB_BACKENDS:
        raise _Unfit("a URL of a supported database (sqlite:///PATH or postgresql://...)")
    if port is not None and not (isinstance(port, int) and 0 < port < 65536):
        raise _Unfit("a database URL with a port from 1 to 65535")
    return value


def _masked_url(value: Any) -> str:
    """A database setting as messages may show it: never with the password of a URL."""
    if not isinstance(value, str) or "://" not in value:
        return _shown(value)
    from kernelwright.runs.database import redact

    try:
        masked = redact(value)
    except Exception:  # redact catches only ArgumentError; a bad port raises ValueError
        return "<unparsable URL>"
    return "<unparsable URL>" if masked == "<unparsable URL>" else _shown(masked)


@dataclass(frozen=True)
class _Rule:
    parse: Callable[[_Given], Any]
    expected: str


_RULES: dict[str, _Rule] = {
    "home": _Rule(_folder, "a folder path"),
    "cache_dir": _Rule(_folder, "a folder path"),
    "db": _Rule(_database, "a database URL (sqlite:///PATH, postgresql://...) or a SQLite file"),
    "sandbox": _Rule(_sandbox, f"one of {', '.join(SANDBOX_LEVELS)}"),
    "timeout": _Rule(_up_to(7 * 86400), "a positive number of seconds, at most a week"),
    "warmup_ms": _Rule(_at_least(0, _number, 3_600_000), "a number of milliseconds, 0 to an hour"),
    "rep_ms": _Rule(_up_to(3_600_000), "a positive number of milliseconds, at most an hour"),
    "trials": _Rule(_at_least(1, _whole, 1000), "a whole number from 1 to 1000"),
    "sampled_configs": _Rule(_at_least(0, _whole, 1000), "a whole number from 0 to 1000"),
    "compile_baseline": _Rule(
        _boolean, "true or false (from env or flags also 1/0, yes/no, on/off)"
    ),
    "timing_precision": _Rule(
        _at_least(0, _number, 0.5), "a fraction from 0 to 0.5 (0: every loop runs to its count)"
    ),
    "warm_workers": _Rule(_boolean, "true or false (from env or flags also 1/0, yes/no, on/off)"),
    "profile": _Rule(_boolean, "true or false (from env or flags also 1/0, yes/no, on/off)"),
    "cuda_graph": _Rule(_boolean, "true or false (from env or flags also 1/0, yes/no, on/off)"),
    "timing_threads": _Rule(
        _at_least(0, _whole, 65536), "a whole number from 0 to 65536 (0: all CPUs but one)"
    ),
}


def _checked(name: str, given: _Given) -> Any:
    rule = _RULES[name]
    try:
        return rule.parse(given)
    except _Unfit as unfit:
        expected = str(unfit) or rule.expected
        shown = _masked_url(given.value) if name == "db" else _shown(given.value)
        raise ConfigError(f"setting {name} ({given.source}): {shown} is not {expected}") from None


def config_file() -> Path:
    explicit = os.environ.get("KERNELWRIGHT_CONFIG")
    return Path(explicit) if explicit else Path.home() / ".config" / "kernelwright" / "config.toml"


def _read_config_file(path: Path, explicit: bool) -> dict[str, Any]:
    """The TOML table of ``path``; {} when the default file is absent, else ConfigError."""
    where = f"config file {_printable(str(path))}"
    named = f"{where} (named by $KERNELWRIGHT_CONFIG)" if explicit else where
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        if explicit:
            raise ConfigError(f"{named}: no such file") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"{named}: cannot read it ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise ConfigError(f"{named}: is a folder, not a file")
    # A character device is allowed for /dev/null, the usual way to say "no config file".
    if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode)):
        raise ConfigError(f"{named}: is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{named}: cannot read it ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{where}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        first_line = (str(exc).splitlines() or ["not valid TOML"])[0]
        raise ConfigError(f"{where}: {first_line}") from None


def _unknown_keys(path: Path, values: dict[str, Any]) -> None:
    unknown = [k for k in values if k not in _RULES]
    if not unknown:
        return
    # A [table] is most likely a section copied from another tool's config, so say it is one.
    listed = [
        f"[{_printable(k)}]" if isinstance(values[k], dict) else _printable(k)
        for k in sorted(unknown)
    ]
    raise ConfigError(
        f"config file {_printable(str(path))}: unknown settings {', '.join(listed)}"
        f" (known: {', '.join(_RULES)})"
    )


def load_settings(**flags: Any) -> Settings:
    """Settings with flags over environment over the TOML file over defaults; a flag of None is
    not given. Raises ConfigError (one line) for the first value that cannot be used."""
    extra = set(flags) - set(_RULES)
    if extra:
        raise TypeError(f"load_settings() got unknown settings {sorted(extra)}")
    path = config_file()
    file_values = _read_config_file(path, explicit=bool(os.environ.get("KERNELWRIGHT_CONFIG")))
    prices = _prices(path, file_values.pop("prices", {}))
    _unknown_keys(path, file_values)
    chosen: dict[str, _Given] = {
        name: _Given(value, f"config file {_printable(str(path))}", textual=False)
        for name, value in file_values.items()
    }
    for name in _RULES:
        variable = f"KERNELWRIGHT_{name.upper()}"
        env = os.environ.get(variable)
        if env is not None:
            chosen[name] = _Given(env, f"env {variable}", textual=True)
        flag = flags.get(name)
        if flag is not None:
            chosen[name] = _Given(flag, f"flag --{name.replace('_', '-')}", textual=True)
    # Only the value that wins is checked: a flag may stand in for a bad value in the file.
    return Settings(
        **{name: _checked(name, given) for name, given in chosen.items()}, prices=prices
    )


def _prices(path: Path, table: Any) -> dict[str, tuple[float, float]]:
    """The [prices] table: ``"model" = [input, output]`` in USD per million tokens."""
    where = f"config file {_printable(str(path))}: [prices]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of model = [input, output] USD per million")
    prices = {}
    for model, pair in table.items():
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1e6
                for v in pair
            )
        ):
            raise ConfigError(
                f"{where} {_printable(str(model))} must be [input, output]: two numbers of USD "
                "per million tokens, at least 0"
            )
        prices[str(model)] = (float(pair[0]), float(pair[1]))
    return prices
