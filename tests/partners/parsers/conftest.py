"""Helpers for the parser tests: the sample files in docs/samples, and running a parser on bytes."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SAMPLES = Path(__file__).resolve().parents[3] / "docs" / "samples"


def sample_bytes(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def run(parse: Callable[..., Iterator[Any]], data: bytes, **kwargs: Any) -> list[Any]:
    """Return every record ``parse`` yields for ``data``."""
    return list(parse(io.BytesIO(data), **kwargs))


@pytest.fixture
def samples() -> Path:
    return SAMPLES
