"""Read a big file in parallel: one forked reader per slice, all staging into one shared table.

A file cut at record starts (``partners.bif.FilePart``, see ``exchanges.intake_parts``) is read by
one child process per slice. Each child parses its slice, converts the records to staging rows
exactly as a serial load does (``loading._read``) and writes them to the staging table through a
connection of its own (``Stage.part_writer``). It reports its progress and, at the end, what it
found (counts, errors, set-aside records, the slice's tallies) over a pipe. The parent adds the
slices up, runs the file-level check and merges as usual: the outcome is the one a serial read
gives, with the time of the slowest slice.

Children are forked (``os.fork``, not ``multiprocessing.Process``: a task worker is a daemonic
process, which may not start those) and end with ``os._exit``: they never touch the parent's
database connections, exit handlers or background writers.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from partners.bif import FieldError, FileRejected

if TYPE_CHECKING:
    from billers.loading import Parts, Problem, _Run
    from billers.loading_sql import Stage

__all__ = ["SEQ_STRIDE", "read_parts"]

#: Each slice's staged rows are numbered from ``index * SEQ_STRIDE``: later slices' rows come later.
SEQ_STRIDE = 1 << 40


@dataclass
class _Report:
    """What a child found in its slice (sent to the parent once, pickled)."""

    records: int = 0
    rejected: int = 0
    rows: int = 0
    staging: bool = True
    errors: list[FieldError] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    tally: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    rejection: list[FieldError] | None = None  # the slice's FileRejected errors


def read_parts(run: _Run, parts: Parts, stage: Stage, convert: Callable[[list[object]], list[tuple]], *,
               progress: Callable[[int], None] | None, batch_size: int, timings: dict[str, float]) -> None:
    """Read every slice of ``parts`` in a child of its own into ``stage``; add the outcome to ``run``.

    ``progress(records read)`` runs in this process as the children report batches. Raises
    FileRejected when a slice is rejected (the other children are stopped), when the slices'
    tallies fail ``parts.check``, or when more records are invalid than quarantine takes;
    RuntimeError when a child fails or dies.
    """
    from billers.loading import MAX_ERRORS, MAX_PROBLEMS

    lock = multiprocessing.get_context("fork").Lock()  # one child writes to the staging table at a time
    children: dict[Connection, tuple[int, int]] = {}  # receiving end -> (slice index, pid)
    done: dict[int, _Report] = {}
    pending: list[Connection] = []  # children that have not sent their report
    read_so_far = [0] * len(parts.parts)
    wall = time.perf_counter()
    try:
        for part in parts.parts:
            receive, send = multiprocessing.Pipe(duplex=False)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which ends with os._exit
                receive.close()
                for other in children:
                    other.close()
                _child(run, parts, part.index, stage, convert, send, lock, batch_size)
            send.close()
            children[receive] = (part.index, pid)
            pending.append(receive)
        while pending:
            for conn in wait(pending):
                index = children[conn][0]
                try:
                    kind, value = conn.recv()
                except EOFError:
                    raise RuntimeError(f"the reader of part {index + 1} ended without an answer") from None
                if kind == "progress":
                    read_so_far[index] = value
                    if progress:
                        progress(sum(read_so_far))
                    continue
                pending.remove(conn)
                if kind == "failed":
                    raise RuntimeError(f"reading part {index + 1} of the file failed: {value}")
                done[index] = value
                if value.rejection is not None:
                    run.records, run.rejected = value.records, value.rejected
                    raise FileRejected(value.rejection + value.errors, parts.file_name)
    finally:
        for conn, (_index, pid) in children.items():
            if conn in pending:
                _stop(pid)
            conn.close()
            _reap(pid)
    timings["read wall"] = time.perf_counter() - wall
    for index in sorted(done):
        report = done[index]
        part = parts.parts[index]
        part.tally.update(report.tally)
        run.records += report.records
        run.rejected += report.rejected
        run.staging = run.staging and report.staging
        stage.rows += report.rows
        if index + 1 < len(parts.parts):  # a late problem left open at the slice's end stops before the next
            for problem in report.problems:
                if problem.last_line is None and not problem.lines:
                    problem.last_line = parts.parts[index + 1].first_line - 1
        run.problems += report.problems
        run.errors += report.errors[: MAX_ERRORS - len(run.errors)]
        for key in ("read", "stage"):
            timings[key] += report.timings.get(key, 0.0)
    if len(run.problems) > MAX_PROBLEMS:
        raise FileRejected(FieldError(run.problems[MAX_PROBLEMS].first_line, "records", "",
                                      f"more than {MAX_PROBLEMS} invalid records: the file is rejected whole"),
                            parts.file_name)
    parts.check(parts.parts)


def _child(run: _Run, parts: Parts, index: int, stage: Stage, convert: Callable[[list[object]], list[tuple]],
           send: Connection, lock: Any, batch_size: int) -> None:  # pragma: no cover - runs in the child
    """Read slice ``index`` into the staging table, send the ``_Report``, and end the process."""
    from billers.loading import _read

    status = 1
    try:
        for name in ("SIGTERM", "SIGINT", "SIGUSR1"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        part = parts.parts[index]
        run.seq_base = index * SEQ_STRIDE
        report = _Report()
        writer = stage.part_writer(lock)
        timings = {"read": 0.0, "stage": 0.0}
        try:
            try:
                _read(run, parts.read(part), writer, convert, looks_up=False, batch_size=batch_size,
                      progress=lambda records: send.send(("progress", records)), timings=timings)
            finally:
                writer.close()
        except FileRejected as exc:
            report.rejection = exc.errors
        report.records, report.rejected, report.rows, report.staging = run.records, run.rejected, writer.rows, run.staging
        report.errors, report.problems, report.tally, report.timings = run.errors, run.problems, part.tally, timings
        send.send(("done", report))
        status = 0
    except BaseException as exc:
        try:
            send.send(("failed", f"{type(exc).__name__}: {str(exc)[:500]}"))
        except BaseException:
            pass
    finally:
        os._exit(status)


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
