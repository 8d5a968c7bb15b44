"""Raw exchange payloads on disk: ``DATA_DIR/exchanges/YYYY/MM/DD/<id>_<name>``, with SHA-256 and size.

The database keeps only the relative path, the size and the checksum (``Exchange.raw_path``,
``raw_size``, ``checksum``). Files are written once, streamed in chunks (memory stays flat whatever
the size), to a temporary name first and renamed into place, so a reader never sees half a file.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.utils import timezone

CHUNK = 4 << 20
ROOT_NAME = "exchanges"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class StoredFile:
    """Where a payload was stored (relative to DATA_DIR), its size in bytes and SHA-256 (hex)."""

    relative_path: str
    size: int
    sha256: str


def root() -> Path:
    """Return the folder holding every raw payload (``DATA_DIR/exchanges``)."""
    return Path(settings.DATA_DIR) / ROOT_NAME


def safe_name(file_name: str) -> str:
    """Return the base name of ``file_name`` with anything but letters, digits, ``._-`` replaced by ``_``."""
    base = re.split(r"[\\/]", file_name)[-1] or "payload"
    cleaned = _UNSAFE.sub("_", base).lstrip(".") or "payload"
    return cleaned[:150]


def absolute(relative_path: str) -> Path:
    """Return the absolute path of a stored payload; ValueError if it points outside the store."""
    path = (Path(settings.DATA_DIR) / relative_path).resolve()
    if root().resolve() not in path.parents:
        raise ValueError(f"{relative_path!r} is not inside {root()}")
    return path


def store(source: BinaryIO | str | os.PathLike[str], *, exchange_id: int, file_name: str,
          when: datetime | None = None, link: bool = False) -> StoredFile:
    """Copy ``source`` (a binary stream, read to its end, or a path) under the store; return where.

    A stream is hashed while it is copied; a path is copied by the kernel and the copy hashed, so the
    checksum describes exactly the stored bytes. ``link``: ``source`` is a path to a file
    nobody writes again (a transport's download, an upload's temporary file): after one read for the
    checksum the store takes a hard link to it instead of a copy, and the caller may delete its own
    name. Copied after all where a link cannot be made (another file system). Raises OSError when
    the disk refuses.
    """
    when = timezone.localtime(when or timezone.now())
    folder = root() / f"{when:%Y}" / f"{when:%m}" / f"{when:%d}"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{exchange_id}_{safe_name(file_name)}"
    relative = str(final.relative_to(Path(settings.DATA_DIR)))
    if link and isinstance(source, (str, os.PathLike)):
        size, sha256 = _file_digest(source)
        try:
            os.link(source, final)
            return StoredFile(relative, size, sha256)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                raise
    partial = final.with_name(final.name + ".part")
    try:
        if isinstance(source, (str, os.PathLike)):
            shutil.copyfile(source, partial)  # in the kernel: a third of the time of a copy through here
            size, sha256 = _file_digest(partial)
        else:
            with open(partial, "wb") as out:
                size, sha256 = _digest(_chunks(source), out.write)
        os.replace(partial, final)
    finally:
        if partial.exists():
            partial.unlink()
    return StoredFile(relative, size, sha256)


def _digest(chunks: Iterable[memoryview | bytes], write: Callable[[memoryview | bytes], object] | None = None
            ) -> tuple[int, str]:
    """Return the size and SHA-256 (hex) of ``chunks``, handing each to ``write`` too when given."""
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        if write is not None:
            write(chunk)
    return size, digest.hexdigest()


def _file_digest(path: str | os.PathLike[str]) -> tuple[int, str]:
    """Return the size and SHA-256 (hex) of the file at ``path``."""
    with open(path, "rb") as stream:
        return _digest(_chunks(stream))


def _chunks(stream: BinaryIO) -> Iterator[memoryview | bytes]:
    """Yield the stream's bytes in CHUNK pieces, read into one reused buffer when the stream can
    (a fresh multi-megabyte bytes object per chunk costs more than hashing it). Each piece is valid
    until the next one is read."""
    readinto = getattr(stream, "readinto", None)
    if readinto is None:
        while chunk := stream.read(CHUNK):
            yield chunk
        return
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    while count := readinto(buffer) or 0:
        yield view[:count]


def open_raw(relative_path: str) -> BinaryIO:
    """Open a stored payload for reading (binary). FileNotFoundError when it was pruned or lost."""
    return open(absolute(relative_path), "rb")


def read_lines(relative_path: str, spans: Iterable[tuple[int, int | None]]) -> dict[int, list[str]]:
    """Return {first line: [lines first..last]} for 1-based inclusive spans (last None = to the end).

    One pass over the file; lines are decoded as UTF-8 with replacement (for display and correction)
    and stripped of line endings; trailing blank lines of a span are dropped.
    """
    wanted = sorted(spans, key=lambda span: span[0])
    out: dict[int, list[str]] = {first: [] for first, _ in wanted}
    if not wanted:
        return out
    with open_raw(relative_path) as raw:
        k = 0
        for number, data in enumerate(raw, 1):
            while k < len(wanted) and wanted[k][1] is not None and number > wanted[k][1]:  # type: ignore[operator]
                k += 1
            if k >= len(wanted):
                break
            for first, last in wanted[k:]:
                if first > number:
                    break
                if last is None or number <= last:
                    out[first].append(data.decode("utf-8", "replace").rstrip("\r\n"))
    for lines in out.values():
        while lines and not lines[-1].strip():
            lines.pop()
    return out


def remove(relative_path: str) -> bool:
    """Delete a stored payload and its empty day/month/year folders; return whether a file was removed."""
    path = absolute(relative_path)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    base = root().resolve()
    for folder in path.parents:
        if folder == base or base not in folder.parents:
            break
        try:
            folder.rmdir()  # only when empty
        except OSError:
            break
    return True
