"""Read settings from the environment, failing loudly on malformed values.

Every ``NAME`` also accepts ``NAME_FILE`` (a path whose content is the value), for secrets.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting in the environment is malformed."""


def get(name: str, default: str | None = None) -> str | None:
    """Return ``NAME`` or the content of ``NAME_FILE``, else ``default``."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def get_int(name: str, default: int) -> int:
    raw = get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def get_bool(name: str, default: bool) -> bool:
    raw = get(name)
    if raw in (None, ""):
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def get_seconds(name: str, default: float, *, maximum: float = 3600) -> float:
    """Return ``NAME`` as a number of seconds, more than 0 and less than ``maximum``."""
    raw = get(name)
    try:
        value = float(raw) if raw not in (None, "") else default
    except ValueError:
        value = -1.0
    if not 0 < value < maximum:
        raise ConfigError(f"{name} must be a number of seconds between 0 and {maximum:g}, got {raw!r}")
    return value


def persistent_secret(name: str, data_dir: Path, generate: callable = lambda: secrets.token_urlsafe(50)) -> str:
    """Return ``NAME`` from the environment, else a value generated once and kept in DATA_DIR.

    The embedded default needs no configuration, yet no secret is ever written into the repository.
    """
    value = get(name)
    if value:
        return value
    path = data_dir / f".{name.lower()}"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = generate()
    path.write_text(value)
    path.chmod(0o600)
    return value
