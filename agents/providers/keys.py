"""API keys: the provider's environment variable, else the keys file (mode 600).

The keys file is TOML, one ``provider = "key"`` line per provider, at
``~/.config/kernelwright/keys.toml`` unless ``$KERNELWRIGHT_KEYS`` names another path. A file that
the group or others may read is refused, never silently used.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

import tomllib

from kernelwright.agents.providers.base import ProviderError

#: The environment variable each provider's key is read from.
KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "openai-compatible": "KERNELWRIGHT_OPENAI_COMPATIBLE_KEY",
}

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def keys_path() -> Path:
    """Where the keys file lives: ``$KERNELWRIGHT_KEYS`` or ``~/.config/kernelwright/keys.toml``."""
    explicit = os.environ.get("KERNELWRIGHT_KEYS")
    if explicit:
        return Path(explicit)
    return Path.home() / ".config" / "kernelwright" / "keys.toml"


def load_keys(path: Path | None = None) -> dict[str, str]:
    """The keys stored in the file (none when it does not exist); ProviderError if it is unsafe."""
    path = path or keys_path()
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ProviderError(
            f"cannot read the keys file {path}: {exc.strerror}", usage_error=True
        ) from None
    with os.fdopen(fd, "rb") as handle:
        # Check the mode of the file that was opened, not of whatever the path names later.
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & 0o077:
            raise ProviderError(
                f"the keys file {path} may be read by others (mode {mode:o}): "
                f"run `chmod 600 {path}`",
                usage_error=True,
            )
        data = handle.read()
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        # The decoder's message may quote a line of the file, and so a key: leave it out.
        raise ProviderError(f"the keys file {path} is not valid TOML", usage_error=True) from None
    keys = {name: value for name, value in table.items() if isinstance(value, str) and value}
    if len(keys) != len(table):
        raise ProviderError(
            f'the keys file {path} must hold only `provider = "key"` lines', usage_error=True
        )
    return keys


def set_key(provider: str, key: str, path: Path | None = None) -> Path:
    """Store ``key`` for ``provider`` in the keys file, written afresh with mode 600."""
    if not _NAME.match(provider):
        raise ProviderError(f"not a provider name: {provider!r}", usage_error=True)
    key = key.strip()
    if not key or any(ch in key for ch in "\r\n"):
        raise ProviderError("a key is one non-empty line", usage_error=True)
    path = path or keys_path()
    keys = load_keys(path)
    keys[provider] = key
    _write_keys(keys, path)
    return path


def _write_keys(keys: Mapping[str, str], path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # JSON string literals are valid TOML basic strings.
    text = "".join(f"{name} = {json.dumps(value)}\n" for name, value in sorted(keys.items()))
    fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=path.parent)  # created with mode 600
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_key(provider: str, path: Path | None = None) -> bool:
    """Drop ``provider``'s key from the keys file (written afresh); False when it held none."""
    path = path or keys_path()
    keys = load_keys(path)
    if provider not in keys:
        return False
    del keys[provider]
    _write_keys(keys, path)
    return True


def missing_key_message(provider: str) -> str:
    return f"{KEY_ENV[provider]} is not set: export it or run `kernelwright keys set {provider}`"


def find_key(provider: str, explicit: Mapping[str, str] | None = None) -> str | None:
    """The key for ``provider``: from ``explicit``, else its environment variable, else the file."""
    if explicit and explicit.get(provider):
        return explicit[provider]
    from_env = os.environ.get(KEY_ENV.get(provider, ""), "").strip()
    if from_env:
        return from_env
    return load_keys().get(provider)


def require_key(provider: str, explicit: Mapping[str, str] | None = None) -> str:
    """The key for ``provider``, or a usage ProviderError naming both ways to set one."""
    key = find_key(provider, explicit)
    if not key:
        raise ProviderError(missing_key_message(provider), usage_error=True)
    return key
