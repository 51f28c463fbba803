"""Settings: every bad value is one ConfigError line naming the setting, its source and what fits.

The user's real configuration is never read: every test points ``$KERNELWRIGHT_CONFIG`` at a
file under ``tmp_path`` and ``$HOME`` at ``tmp_path``, with no ``KERNELWRIGHT_*`` variable left.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pytest

from kernelwright import config as config_module
from kernelwright.config import ConfigError, Settings, config_file, load_settings


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty config file named by ``$KERNELWRIGHT_CONFIG``, in an environment of our own."""
    for name in list(os.environ):
        if name.startswith(("KERNELWRIGHT_", "XDG_")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    path = tmp_path / "config.toml"
    path.write_text("")
    monkeypatch.setenv("KERNELWRIGHT_CONFIG", str(path))
    return path


@dataclass
class Bad:
    """A bad setting: the config file text, environment and flags, and what the message names."""

    setting: str
    toml: str | bytes = ""
    env: dict[str, str] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    # Where the value came from, as the message says it; "{config}" stands for the file's path.
    source: str = "config file {config}"
    secret: str | None = None


BAD = {
    # Wrong TOML types.
    "timeout string": Bad("timeout", 'timeout = "abc"'),
    "timeout string number": Bad("timeout", 'timeout = "5"'),
    "timeout list": Bad("timeout", "timeout = [1]"),
    "timeout bool": Bad("timeout", "timeout = true"),
    "timeout table": Bad("timeout", "[timeout]\nx = 1"),
    "trials float": Bad("trials", "trials = 2.5"),
    "trials bool": Bad("trials", "trials = true"),
    "trials string": Bad("trials", 'trials = "3"'),
    "compile_baseline int": Bad("compile_baseline", "compile_baseline = 3"),
    "compile_baseline string": Bad("compile_baseline", 'compile_baseline = "no"'),
    "warm_workers string": Bad("warm_workers", 'warm_workers = "off"'),
    "sandbox int": Bad("sandbox", "sandbox = 5"),
    "home int": Bad("home", "home = 3"),
    "home empty": Bad("home", 'home = ""'),
    "home NUL": Bad("home", 'home = "a\\u0000b"'),
    "cache_dir list": Bad("cache_dir", 'cache_dir = ["a"]'),
    "db int": Bad("db", "db = 5"),
    "rep_ms string": Bad("rep_ms", 'rep_ms = "20"'),
    # Values out of range.
    "trials zero": Bad("trials", "trials = 0"),
    "trials huge": Bad("trials", "trials = 100000000000000000000000"),
    "timing_threads huge": Bad("timing_threads", "timing_threads = 100000000000000000000"),
    "timeout past a week": Bad("timeout", "timeout = 1e9"),
    "rep_ms past an hour": Bad("rep_ms", "rep_ms = 1e12"),
    "timeout negative": Bad("timeout", "timeout = -5"),
    "timeout zero": Bad("timeout", "timeout = 0"),
    "warmup_ms negative": Bad("warmup_ms", "warmup_ms = -1"),
    "rep_ms zero": Bad("rep_ms", "rep_ms = 0.0"),
    "sampled_configs negative": Bad("sampled_configs", "sampled_configs = -1"),
    "timing_threads negative": Bad("timing_threads", "timing_threads = -2"),
    "sandbox unknown": Bad("sandbox", 'sandbox = "chroot"'),
    # NaN and infinities, from TOML and from the environment.
    "timeout nan": Bad("timeout", "timeout = nan"),
    "timeout inf": Bad("timeout", "timeout = inf"),
    "warmup_ms inf": Bad("warmup_ms", "warmup_ms = +inf"),
    "rep_ms nan": Bad("rep_ms", "rep_ms = nan"),
    "env timeout nan": Bad(
        "timeout", env={"KERNELWRIGHT_TIMEOUT": "nan"}, source="env KERNELWRIGHT_TIMEOUT"
    ),
    "env timeout inf": Bad(
        "timeout", env={"KERNELWRIGHT_TIMEOUT": "inf"}, source="env KERNELWRIGHT_TIMEOUT"
    ),
    "env rep_ms -infinity": Bad(
        "rep_ms", env={"KERNELWRIGHT_REP_MS": "-infinity"}, source="env KERNELWRIGHT_REP_MS"
    ),
    # Strings from the environment, parsed strictly.
    "env timeout word": Bad(
        "timeout", env={"KERNELWRIGHT_TIMEOUT": "abc"}, source="env KERNELWRIGHT_TIMEOUT"
    ),
    "env trials float": Bad(
        "trials", env={"KERNELWRIGHT_TRIALS": "2.5"}, source="env KERNELWRIGHT_TRIALS"
    ),
    "env trials zero": Bad(
        "trials", env={"KERNELWRIGHT_TRIALS": "0"}, source="env KERNELWRIGHT_TRIALS"
    ),
    "env compile_baseline word": Bad(
        "compile_baseline",
        env={"KERNELWRIGHT_COMPILE_BASELINE": "maybe"},
        source="env KERNELWRIGHT_COMPILE_BASELINE",
    ),
    "env compile_baseline empty": Bad(
        "compile_baseline",
        env={"KERNELWRIGHT_COMPILE_BASELINE": ""},
        source="env KERNELWRIGHT_COMPILE_BASELINE",
    ),
    "env sandbox unknown": Bad(
        "sandbox", env={"KERNELWRIGHT_SANDBOX": "none"}, source="env KERNELWRIGHT_SANDBOX"
    ),
    # Flags.
    "flag timeout negative": Bad("timeout", flags={"timeout": -5.0}, source="flag --timeout"),
    "flag timeout nan": Bad("timeout", flags={"timeout": float("nan")}, source="flag --timeout"),
    "flag sandbox unknown": Bad("sandbox", flags={"sandbox": "jail"}, source="flag --sandbox"),
    # Database URLs.
    "db port not a number": Bad(
        "db",
        env={"KERNELWRIGHT_DB": "postgresql://u:secret@h:notaport/db"},
        source="env KERNELWRIGHT_DB",
        secret="secret",
    ),
    "db port out of range": Bad(
        "db",
        flags={"db": "postgresql://u:secret@h:99999/db"},
        source="flag --db",
        secret="secret",
    ),
    "db port bad ipv6": Bad(
        "db",
        flags={"db": "postgresql://u:secret@[::1/db"},
        source="flag --db",
        secret="secret",
    ),
    "db unsupported backend": Bad("db", flags={"db": "foo://x"}, source="flag --db"),
    "db mysql": Bad("db", 'db = "mysql://u:secret@h/db"', secret="secret"),
    "db unparsable": Bad("db", flags={"db": "://x"}, source="flag --db"),
    "db NUL in URL": Bad("db", flags={"db": "sqlite://\x00"}, source="flag --db"),
    "db NUL in TOML URL": Bad("db", 'db = "sqlite:///a\\u0000b"'),
    "db NUL in path": Bad("db", 'db = "runs\\u0000.db"'),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_setting_is_one_line_naming_it(
    case: Bad, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if isinstance(case.toml, bytes):
        config.write_bytes(case.toml)
    else:
        config.write_text(case.toml)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(**case.flags)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith(f"setting {case.setting} "), message
    assert f"({case.source.format(config=config)})" in message, message
    assert " is not " in message, message
    if case.secret:
        assert case.secret not in message, message


FILE_ERRORS = {
    "not UTF-8": b'sandbox = "\xff\xfe"\n',
    "TOML syntax": "timeout = = 3\n",
    "unterminated string": 'home = "abc\n',
    "unknown key": "tmeout = 3\n",
    "top-level table": "[eval]\ntimeout = 3\n",
}


@pytest.mark.parametrize("text", FILE_ERRORS.values(), ids=FILE_ERRORS.keys())
def test_bad_config_file_is_one_line_naming_it(text: str | bytes, config: Path) -> None:
    if isinstance(text, bytes):
        config.write_bytes(text)
    else:
        config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"config file {config}"), message


def test_unknown_keys_and_tables_are_listed(config: Path) -> None:
    config.write_text('tmeout = 3\nsandbox = "auto"\n[eval]\ntrials = 1\n')
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    listed = message.split("(known:")[0]
    assert "tmeout" in listed and "[eval]" in listed and "sandbox" not in listed, message


def test_every_setting_has_a_rule() -> None:
    # [prices] is a table of the config file only, checked on its own (see below).
    assert set(config_module._RULES) == {f.name for f in fields(Settings)} - {"prices"}


def test_prices_come_from_the_config_files_table(config: Path) -> None:
    from kernelwright.agents.providers.prices import cost_usd

    config.write_text('timeout = 30\n[prices]\n"my-model" = [2, 8]\n"gpt-5" = [0.5, 1.5]\n')
    settings = load_settings()
    assert settings.prices == {"my-model": (2.0, 8.0), "gpt-5": (0.5, 1.5)}
    assert cost_usd("my-model", 1_000_000, 500_000, settings.prices) == pytest.approx(6.0)
    assert cost_usd("gpt-5", 1_000_000, 0, settings.prices) == pytest.approx(0.5)  # overridden
    for bad in ('"m" = [1]', '"m" = [-1, 2]', '"m" = ["1", 2]', '"m" = [true, 1]', '"m" = 3'):
        config.write_text(f"[prices]\n{bad}\n")
        with pytest.raises(ConfigError, match=r"\[prices\] m must be \[input, output\]"):
            load_settings()
    config.write_text('prices = "cheap"\n')
    with pytest.raises(ConfigError, match="must be a table"):
        load_settings()


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_explicit_config_file_must_be_readable(
    kind: str, config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere"
    if kind == "folder":
        target.mkdir()
    monkeypatch.setenv("KERNELWRIGHT_CONFIG", str(target))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message and str(target) in message and "KERNELWRIGHT_CONFIG" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file of mode 000")
def test_unreadable_config_file(config: Path) -> None:
    config.write_text("trials = 1\n")
    config.chmod(0)
    try:
        with pytest.raises(ConfigError, match="cannot read"):
            load_settings()
    finally:
        config.chmod(0o600)


def test_defaults(config: Path) -> None:
    assert load_settings() == Settings()


def test_default_config_file_may_be_absent(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KERNELWRIGHT_CONFIG")
    assert not config_file().exists()
    assert load_settings() == Settings()


def test_devnull_as_config_file_means_none(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERNELWRIGHT_CONFIG", os.devnull)
    assert load_settings() == Settings()


def test_file_values_are_typed(config: Path, tmp_path: Path) -> None:
    config.write_text(
        'home = "~/kw"\ncache_dir = "/tmp/kwc"\ndb = "postgres://u:p@h:5433/db"\n'
        'sandbox = "process"\ntimeout = 5\nwarmup_ms = 0\nrep_ms = 12.5\ntrials = 3\n'
        "sampled_configs = 0\ncompile_baseline = false\ntiming_threads = 4\n"
    )
    cfg = load_settings()
    assert cfg.home == tmp_path / "home" / "kw"
    assert cfg.cache_dir == Path("/tmp/kwc")
    assert cfg.db == "postgres://u:p@h:5433/db"
    assert (cfg.sandbox, cfg.timeout, cfg.warmup_ms, cfg.rep_ms) == ("process", 5.0, 0.0, 12.5)
    assert isinstance(cfg.timeout, float)
    assert (cfg.trials, cfg.sampled_configs, cfg.timing_threads) == (3, 0, 4)
    assert cfg.compile_baseline is False


def test_env_over_file_and_flags_over_env(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('timeout = 10\ntrials = 4\nsandbox = "docker"\n')
    monkeypatch.setenv("KERNELWRIGHT_TIMEOUT", "20")
    monkeypatch.setenv("KERNELWRIGHT_TRIALS", "5")
    cfg = load_settings(timeout=30.0, sandbox=None)
    assert (cfg.timeout, cfg.trials, cfg.sandbox) == (30.0, 5, "docker")


def test_a_bad_value_overridden_by_a_higher_source_is_not_used(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.write_text("timeout = -5\n")
    monkeypatch.setenv("KERNELWRIGHT_TRIALS", "0")
    assert load_settings(timeout="7", trials=1).timeout == 7.0


@pytest.mark.parametrize(
    ("word", "value"),
    [("1", True), ("true", True), ("YES", True), ("On", True)]
    + [("0", False), ("false", False), ("No", False), ("OFF", False)],
)
def test_bools_from_env_words(
    word: str, value: bool, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERNELWRIGHT_COMPILE_BASELINE", word)
    monkeypatch.setenv("KERNELWRIGHT_WARM_WORKERS", word)
    settings = load_settings()
    assert settings.compile_baseline is value
    assert settings.warm_workers is value
    assert settings.eval_options().warm_workers is value


@pytest.mark.parametrize(
    ("db", "expected"),
    [
        ("", None),
        ("runs.db", "runs.db"),
        ("sqlite:///tmp/x.db", "sqlite:///tmp/x.db"),
        ("sqlite://", "sqlite://"),
        ("postgresql+psycopg://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
    ],
)
def test_good_databases(
    db: str, expected: str | None, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERNELWRIGHT_DB", db)
    assert load_settings().db == expected


def test_cli_turns_a_bad_setting_into_one_error_line(config: Path, tmp_path: Path) -> None:
    config.write_text("timeout = -5\n")
    env = {
        **os.environ,
        "KERNELWRIGHT_DB": f"sqlite:///{tmp_path / 'runs.db'}",
        "COLUMNS": "60",
    }
    done = subprocess.run(
        [sys.executable, "-m", "kernelwright.cli", "runs", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: setting timeout"), done.stderr
