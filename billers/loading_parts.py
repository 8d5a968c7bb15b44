"""Read a big file in parallel: one reader process per slice, all staging into one shared table.

A file cut at record starts (``partners.bif_reader.FilePart``, see ``exchanges.intake_parts``) is read by
one process per slice. Each reader parses its slice, converts the records to staging rows exactly
as a serial load does (``loading_run.read_batches``) and writes them to the staging table through a
connection of its own (``Stage.part_writer``). It reports its progress and, at the end, what it
found (counts, errors, set-aside records, the slice's tallies) over a pipe. The parent adds the
slices up, runs the file-level check and merges as usual: the outcome is the one a serial read
gives, in the time of the slowest slice.

Readers are fresh interpreters (``python -m billers.loading_parts``) given their job pickled on
stdin, not forks: the loading process may have other threads (a web server, background writers)
whose locks a fork would copy held, and a task worker is a daemonic process, which
``multiprocessing`` does not let start children. A reader does not load Django (a third of the
memory it would take otherwise) and never touches the parent's database connection; it ends when its
slice is read or when the parent is gone.
"""
from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from partners.bif import FieldError, FileRejected

if TYPE_CHECKING:
    from billers.loading_run import LoadRun, Parts, Problem
    from billers.loading_sql import Stage
    from billers.loading_writers import PartWriter

__all__ = ["SEQ_STRIDE", "read_parts"]

#: Each slice's staged rows are numbered from ``index * SEQ_STRIDE``: later slices' rows come later.
SEQ_STRIDE = 1 << 40
#: Records a reader converts and writes at a time (at most): a reader's memory is mostly one batch.
READER_BATCH = 2_000


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
    peak_mb: float = 0.0  # the reader's peak resident memory


@dataclass
class _Job:
    """What a reader needs (pickled to its stdin): the load's state, the slices, where to write."""

    run: LoadRun
    parts: Parts
    writer: PartWriter
    batch_size: int


def read_parts(run: LoadRun, parts: Parts, stage: Stage, convert: Callable[[list[object]], list[tuple]], *,
               progress: Callable[[int], None] | None, batch_size: int, timings: dict[str, float]) -> float:
    """Read every slice of ``parts`` in a process of its own into ``stage``; add the outcome to ``run``;
    return the biggest reader's peak resident memory in MB.

    ``convert`` is ``run``'s row builder (each reader uses its own copy of ``run``).
    ``progress(records read)`` runs in this process as the readers report batches. Raises
    FileRejected when a slice is rejected (the other readers are stopped), when the slices'
    tallies fail ``parts.check``, or when more records are invalid than quarantine takes;
    RuntimeError when a reader fails or dies.
    """
    from django.conf import settings

    from billers.loading_run import MAX_ERRORS, MAX_PROBLEMS

    job = pickle.dumps(_Job(run, _picklable(parts), stage.part_writer(), min(batch_size, READER_BATCH)),
                       pickle.HIGHEST_PROTOCOL)
    readers: dict[Connection, tuple[int, subprocess.Popen[bytes]]] = {}  # receiving end -> (slice, process)
    pending: list[Connection] = []  # readers that have not sent their report
    done: dict[int, _Report] = {}
    read_so_far = [0] * len(parts.parts)
    wall = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(settings.BASE_DIR),
                                                                     os.environ.get("PYTHONPATH")]))}
    try:
        for part in parts.parts:
            receive, send = os.pipe()
            try:
                process = subprocess.Popen(
                    [sys.executable, "-m", "billers.loading_parts", str(part.index), str(send)],
                    stdin=subprocess.PIPE, pass_fds=(send,), cwd=settings.BASE_DIR, env=env)
            finally:
                os.close(send)
            conn = Connection(receive, writable=False)
            readers[conn] = (part.index, process)
            pending.append(conn)
            assert process.stdin is not None
            process.stdin.write(job)
            process.stdin.close()
        while pending:
            for conn in wait(pending):
                index = readers[conn][0]
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
        for conn, (_index, process) in readers.items():
            if conn in pending:
                process.kill()
            conn.close()
            process.wait()
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
    return max(report.peak_mb for report in done.values())


def _picklable(parts: Parts) -> Parts:
    """``parts`` without its check (a closure; the parent runs it)."""
    return dataclasses.replace(parts, check=_checked_by_the_parent)


def _checked_by_the_parent(parts: list[object]) -> None:
    raise AssertionError("the parent checks the slices' tallies")


def _reader(index: int, send: Connection) -> int:
    """Read slice ``index`` of the job on stdin into the staging table, send the ``_Report``."""
    from billers.loading_run import read_batches

    job: _Job = pickle.load(sys.stdin.buffer)
    run, part = job.run, job.parts.parts[index]
    run.seq_base = index * SEQ_STRIDE
    report = _Report()
    timings = {"read": 0.0, "stage": 0.0}
    writer = job.writer
    writer.open()
    try:
        try:
            read_batches(run, job.parts.read(part), writer, run.invoice_rows, looks_up=False,
                         batch_size=writer.batch or job.batch_size, progress=_progress(send, job.batch_size),
                         timings=timings)
        finally:
            writer.close()
    except FileRejected as exc:
        report.rejection = exc.errors
    report.records, report.rejected, report.rows, report.staging = run.records, run.rejected, writer.rows, run.staging
    report.errors, report.problems, report.tally, report.timings = run.errors, run.problems, part.tally, timings
    report.peak_mb = _peak_mb()
    send.send(("done", report))
    return 0


def _progress(send: Connection, every: int) -> Callable[[int], None]:
    """Report the records read to the parent, at most once per ``every`` records."""
    reported = 0

    def report(records: int) -> None:
        nonlocal reported
        if records - reported >= every:
            reported = records
            send.send(("progress", records))

    return report


def _peak_mb() -> float:
    """This process's peak resident memory since it started its interpreter (``VmHWM``: unlike
    ``ru_maxrss`` it leaves out the parent's pages the process held between fork and exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:  # pragma: no cover - runs in the reader process
    """``python -m billers.loading_parts INDEX FD``: read slice INDEX, report on pipe FD.

    Without Django: what the job holds (``loading_run``, ``loading_writers``, the partner parsers,
    ``exchanges.intake_parts.read_slice``) needs none of it, which keeps a reader small.
    """
    import gc

    gc.disable()  # as in the parent's load: batches make no cycles
    send = Connection(int(argv[1]), readable=False)
    try:
        return _reader(int(argv[0]), send)
    except BrokenPipeError:
        return 1  # the parent is gone
    except BaseException as exc:
        try:
            send.send(("failed", f"{type(exc).__name__}: {str(exc)[:500]}"))
        except OSError:
            pass
        return 1


if __name__ == "__main__":  # pragma: no cover
    from billers.loading_parts import main as _main  # the module, not __main__: what it pickles must unpickle

    sys.exit(_main(sys.argv[1:]))
