"""HTML -> PDF with weasyprint, and a pool of recycled render workers. No Django here.

Kept free of Django imports so pool workers (forked or spawned) import only weasyprint. Rules from
PITFALLS 7: templates never fetch remote URLs (:class:`LocalOnlyFetcher` refuses everything but
``data:`` URLs and files under the allowed folders), and a worker's memory is not returned by
weasyprint, so pool workers are replaced after ``maxtasksperchild`` bills.
"""
from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote, urlsplit

# weasyprint logs every rendering step (and its stylesheet parsing at import) at INFO: far too
# chatty for batches of bills, so its progress logger is quieted before it is imported.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)

#: Bills a pool worker renders before it is replaced (weasyprint keeps what it allocated).
MAX_TASKS_PER_CHILD = 250


class RefusedURL(ValueError):
    """A template asked for a URL that is neither ``data:`` nor a file under an allowed folder."""


class LocalOnlyFetcher(URLFetcher):
    """weasyprint URL fetcher that serves ``data:`` URLs and local files under ``roots`` only.

    Every other URL (http, https, ftp, file outside the roots, ...) raises :class:`RefusedURL`;
    weasyprint then skips the resource and logs a warning, so a template can never reach the network.
    """

    def __init__(self, roots: Sequence[Path], **kwargs: Any) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, **kwargs)
        self.roots = tuple(Path(r).resolve() for r in roots)

    def fetch(self, url: str, headers: Any = None) -> Any:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(unquote(parts.path)).resolve()
            if any(path.is_relative_to(root) for root in self.roots) and path.is_file():
                return super().fetch(url, headers)
        logger.warning("bill template asked for %s: refused (only data: and local template files)", url)
        raise RefusedURL(f"refused URL {url!r}: bill templates may only use data: URLs and local template files")


class Renderer:
    """Renders HTML strings to PDF bytes with one parsed stylesheet and one font configuration."""

    def __init__(self, base_dir: Path, css_text: str = "") -> None:
        self.base_dir = Path(base_dir).resolve()
        self.key = (str(self.base_dir), css_text)
        self.fetcher = LocalOnlyFetcher([self.base_dir])
        self.fonts = FontConfiguration()
        self.stylesheets = (
            [weasyprint.CSS(string=css_text, base_url=self.base_dir.as_uri() + "/",
                            url_fetcher=self.fetcher, font_config=self.fonts)]
            if css_text
            else []
        )

    def pdf(self, html: str) -> bytes:
        """Return the PDF of ``html`` (relative URLs resolve under ``base_dir``)."""
        document = weasyprint.HTML(string=html, base_url=self.base_dir.as_uri() + "/", url_fetcher=self.fetcher)
        pdf: bytes = document.write_pdf(stylesheets=self.stylesheets, font_config=self.fonts)
        return pdf


def html_to_pdf(html: str, base_dir: Path, css_text: str = "") -> bytes:
    """Return the PDF of one HTML document (a fresh :class:`Renderer`; use one for many bills)."""
    return Renderer(base_dir, css_text).pdf(html)


# --- the pool ----------------------------------------------------------------------------------

#: (key, PDF bytes or None, error text, render milliseconds)
Rendered = tuple[Any, "bytes | None", str, int]

_worker: Renderer | None = None


#: First-generation threshold of the cyclic GC in render workers (the default is 700).
WORKER_GC_THRESHOLD = 20_000


def _init_worker(base_dir: str, css_text: str) -> None:
    """Set up a pool worker: its renderer, and a garbage collector tuned for rendering.

    One bill allocates a few hundred thousand short-lived objects, so with the default thresholds
    the cyclic collector runs hundreds of times per bill, each time over everything the worker
    inherited. Freezing what exists and raising the first threshold cuts render CPU by 10-15%
    (bench/bills.py); cycles are still collected, and the worker is replaced every
    ``maxtasksperchild`` bills anyway.
    """
    global _worker
    if _worker is None or _worker.key != (str(Path(base_dir).resolve()), css_text):
        _worker = Renderer(Path(base_dir), css_text)
    gc.freeze()
    gc.set_threshold(WORKER_GC_THRESHOLD, 50, 100)


def _warm_up(base_dir: Path, css_text: str) -> None:
    """Load fonts and parse the stylesheet once in this process, before workers are forked from it.

    A forked worker inherits the warmed renderer (see :func:`_init_worker`), so neither the first
    worker nor any replacement pays fontconfig's and Pango's start-up on its first bill again.
    """
    global _worker
    if _worker is None or _worker.key != (str(Path(base_dir).resolve()), css_text):
        _worker = Renderer(base_dir, css_text)
        _worker.pdf("<p>warm-up</p>")


def _render_with(renderer: Renderer, key: Any, html: str) -> Rendered:
    started = time.perf_counter()
    try:
        pdf = renderer.pdf(html)
    except Exception as exc:  # noqa: BLE001  (one bad bill must not stop the batch: reported with its key)
        return key, None, f"{type(exc).__name__}: {exc}", 0
    return key, pdf, "", int((time.perf_counter() - started) * 1000)


def _render_one(job: tuple[Any, str]) -> Rendered:
    assert _worker is not None, "pool worker not initialised"
    return _render_with(_worker, *job)


def pool_context() -> multiprocessing.context.BaseContext:
    """Return the start method for render workers: fork where available (workers need no Django)."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


class RenderPool:
    """Renders ``(key, html)`` jobs to PDF in worker processes replaced every ``max_tasks_per_child``.

    ``workers=0`` renders in this process (tests, single bills). Use as a context manager; call
    :meth:`render` once per chunk of jobs (build the chunk in the calling thread: the pool's feeder
    thread must not run database queries).
    """

    def __init__(
        self,
        base_dir: Path,
        css_text: str = "",
        *,
        workers: int | None = None,
        max_tasks_per_child: int = MAX_TASKS_PER_CHILD,
    ) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self._local: Renderer | None = None
        self._pool: Any = None
        if self.workers == 0:
            self._local = Renderer(base_dir, css_text)
        else:
            context = pool_context()
            if context.get_start_method() == "fork":
                _warm_up(base_dir, css_text)
            self._pool = context.Pool(
                processes=self.workers,
                initializer=_init_worker,
                initargs=(str(base_dir), css_text),
                maxtasksperchild=max_tasks_per_child,
            )

    def render(self, jobs: Sequence[tuple[Any, str]]) -> Iterator[Rendered]:
        """Yield ``(key, pdf or None, error, ms)`` for each job, in completion order."""
        if self._local is not None:
            for key, html in jobs:
                yield _render_with(self._local, key, html)
            return
        yield from self._pool.imap_unordered(_render_one, jobs, chunksize=1)

    def close(self) -> None:
        """Stop the workers (waiting for them, so their peak memory is counted in RUSAGE_CHILDREN)."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None and exc[0] is not None:
            self._pool.terminate()
        self.close()
