"""Cut a stored partner file into slices at record starts, so that several processes read it at once.

A big file of a format that allows it (``Format.check_parts``) is cut into ``INTAKE_READERS``
slices of about equal size, each starting on a line where a record starts (the format's
``needle``: ``IH|`` for a BIF, ``HDR`` for FlexiBill). ``billers.loading_parts`` reads each slice in
a child process; every slice knows the number of its first line, so errors and set-aside records
name the same lines as a serial read.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from billers.loading_run import Parts
from partners.bif_reader import FilePart

if TYPE_CHECKING:
    from billers.models import Biller
    from exchanges.intake_formats import Format

__all__ = ["cut", "parts_of", "read_slice", "slice_reader"]

CHUNK = 4 << 20  # bytes read at a time while looking for a cut point


def cut(path: Path, needle: bytes, count: int) -> list[FilePart]:
    """Return up to ``count`` slices of the file, each but the first starting just after a newline
    that ``needle`` (which starts with a newline) follows; with their first line numbers."""
    size = path.stat().st_size
    starts = [0]
    with open(path, "rb") as stream:
        for k in range(1, count):
            at = _find(stream, needle, max(size * k // count, starts[-1]))
            if at is None:
                break
            if at + 1 > starts[-1]:
                starts.append(at + 1)
        parts, line, position = [], 1, 0
        for index, start in enumerate(starts):
            line += _newlines(stream, position, start)
            position = start
            end = starts[index + 1] if index + 1 < len(starts) else None
            parts.append(FilePart(index=index, first_line=line, start=start, end=end))
    return parts


def _find(stream: BinaryIO, needle: bytes, offset: int) -> int | None:
    """The offset of the first ``needle`` at or after ``offset``, or None."""
    stream.seek(offset)
    carry = b""
    base = offset
    while chunk := stream.read(CHUNK):
        data = carry + chunk
        at = data.find(needle)
        if at >= 0:
            return base + at
        carry = data[-(len(needle) - 1):]
        base += len(data) - len(carry)
    return None


def _newlines(stream: BinaryIO, start: int, end: int) -> int:
    stream.seek(start)
    count, left = 0, end - start
    while left > 0 and (chunk := stream.read(min(CHUNK, left))):
        count += chunk.count(b"\n")
        left -= len(chunk)
    return count


class _Slice(io.RawIOBase):
    """The bytes of ``[start, end)`` of a file (end None: to its end), as a raw stream."""

    def __init__(self, path: Path, start: int, end: int | None) -> None:
        self.file = open(path, "rb")  # noqa: SIM115 - closed with the slice
        self.file.seek(start)
        self.left = None if end is None else end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        if self.left is not None:
            view = view[: self.left]
        count = self.file.readinto(view) or 0
        if self.left is not None:
            self.left -= count
        return count

    def close(self) -> None:
        self.file.close()
        super().close()


def slice_reader(path: Path, part: FilePart) -> BinaryIO:
    """A buffered binary stream of one slice of the file."""
    return io.BufferedReader(_Slice(path, part.start, part.end), buffer_size=1 << 20)


def read_slice(parse: Callable[..., Iterator[object]], path: Path, part: FilePart) -> Iterator[object]:
    """The records of one slice: ``parse(stream, part=part)`` over that slice of the file (in a reader
    process: no Django here)."""
    with slice_reader(path, part) as stream:
        yield from parse(stream, part=part)


def parts_of(fmt: Format, path: Path, biller: Biller, file_name: str, kind: str) -> Parts | None:
    """The slices to read ``path`` in, or None when it is read whole: a format that cannot be cut,
    one reader (``INTAKE_READERS``), or a file under ``INTAKE_PARALLEL_MIN_BYTES``."""
    from django.conf import settings

    readers = settings.INTAKE_READERS
    if (fmt.slices is None or fmt.check_parts is None or fmt.needle is None or kind != "invoices" or readers < 2
            or path.stat().st_size < settings.INTAKE_PARALLEL_MIN_BYTES):
        return None
    slices = cut(path, fmt.needle, readers)
    if len(slices) < 2:
        return None
    check = fmt.check_parts
    parse = partial(fmt.slices, file_name=file_name, bid=biller.bid, kind=kind)
    return Parts(slices, partial(read_slice, parse, path), lambda parts: check(parts, file_name), file_name)
