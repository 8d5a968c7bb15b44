"""The small interface every transport offers (list, get, move) and the error it raises.

A transport is opened on one ``Connection`` and used as a context manager; every network call has
an explicit timeout. Folder and file names are the remote server's; the caller never builds paths.
"""
from __future__ import annotations

import fnmatch
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

#: Seconds for connecting, each reply and each data block.
TIMEOUT = 30.0


class TransportError(Exception):
    """A transfer problem. ``permanent`` means retrying unchanged will fail again (a wrong host key,
    refused credentials, a missing folder); otherwise the next poll retries."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int | None = None
    modified: datetime | None = None


def matches(name: str, pattern: str) -> bool:
    """Glob match without regard to case (partners mix ``.BIF`` and ``.bif``)."""
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def free_name(name: str, taken: Callable[[str], bool], now: datetime | None = None) -> str:
    """``name``, or ``stem_YYYYmmddHHMMSSffffff.ext`` when ``taken(name)`` says it is already used."""
    if not taken(name):
        return name
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S%f")
    stem, dot, ext = name.rpartition(".")
    return f"{stem}_{stamp}.{ext}" if dot and stem else f"{name}_{stamp}"


class Transport(ABC):
    """One open session with a partner's server (or a local folder)."""

    kind: str = ""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @abstractmethod
    def open(self) -> None:
        """Connect and authenticate; raise TransportError (permanent for key or credential problems)."""

    @abstractmethod
    def close(self) -> None:
        """Release the session; never raises."""

    @abstractmethod
    def list(self, folder: str) -> list[RemoteFile]:
        """Return the regular files directly in ``folder`` (sorted by name); a missing folder is a
        permanent TransportError."""

    @abstractmethod
    def get(self, folder: str, name: str, local_path: Path) -> int:
        """Download ``folder/name`` to ``local_path`` and return the byte count. A transfer cut short
        raises TransportError and leaves the remote file untouched."""

    @abstractmethod
    def exists(self, folder: str, name: str) -> bool:
        """Whether ``folder/name`` exists."""

    @abstractmethod
    def rename(self, src_folder: str, name: str, dest_folder: str, dest_name: str) -> None:
        """Move one file on the server; raise TransportError when the server refuses."""

    def move(self, src_folder: str, name: str, dest_folder: str) -> str:
        """Move ``src_folder/name`` into ``dest_folder`` without overwriting a file already there
        (the later one gets a timestamp suffix). Return the name it now has."""
        dest_name = free_name(name, lambda n: self.exists(dest_folder, n))
        self.rename(src_folder, name, dest_folder, dest_name)
        return dest_name

    def check_folder(self, folder: str) -> int:
        """Return how many files ``folder`` holds; raise a permanent TransportError if it is missing."""
        return len(self.list(folder))
