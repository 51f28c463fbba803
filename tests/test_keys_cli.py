"""``kernelwright keys``: a key goes in through stdin, lands in a mode-600 file, and never comes out."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kernelwright.cli import app

KEY = "sk-kwsecret-cli-0123456789"


@pytest.fixture
def keys_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config" / "keys.toml"
    monkeypatch.setenv("KERNELWRIGHT_KEYS", str(path))
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "KERNELWRIGHT_OPENAI_COMPATIBLE_KEY"):
        monkeypatch.delenv(variable, raising=False)
    return path


def keys(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["keys", *args], input=stdin, env=env)


def one_error(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_set_list_remove(keys_file: Path) -> None:
    stored = keys("set", "openai", stdin=KEY + "\n")
    assert stored.exit_code == 0, stored.stderr
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert KEY in keys_file.read_text()
    listed = keys("list", "--json")
    assert listed.exit_code == 0, listed.stderr
    sources = {row["provider"]: row["source"] for row in json.loads(listed.stdout)["providers"]}
    assert sources == {"openai": "file", "anthropic": None, "openai-compatible": None}
    from_env = keys("list", "--json", env={"ANTHROPIC_API_KEY": "sk-ant-kwsecret-env"})
    rows = json.loads(from_env.stdout)["providers"]
    assert {r["provider"]: r["source"] for r in rows}["anthropic"] == "env"
    table = keys("list")
    for result in (stored, listed, from_env, table):
        assert "kwsecret" not in result.stdout + result.stderr
    assert keys("remove", "openai").exit_code == 0
    assert "openai" not in keys_file.read_text()
    assert "holds no openai key" in one_error(keys("remove", "openai"))


def test_bad_input_is_one_line(keys_file: Path) -> None:
    assert "unknown provider" in one_error(keys("set", "openia", stdin=KEY + "\n"))
    assert keys("set", "openai", stdin="\n").exit_code == 2
    keys_file.parent.mkdir(parents=True)
    keys_file.write_text(f'openai = "{KEY}"\n')
    os.chmod(keys_file, 0o644)
    unsafe = keys("list")
    assert unsafe.exit_code == 2 and "chmod 600" in one_error(unsafe)
    assert "kwsecret" not in unsafe.stdout + unsafe.stderr
