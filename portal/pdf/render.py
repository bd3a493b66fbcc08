"""Rendering in a worker process: a hard time limit and no font but the portal's own.

The worker is started with the ``spawn`` method (no copy of the web process's threads,
locks or database connections) and a fontconfig that knows only ``static/vendor/fonts``,
so a PDF can only embed the project's fonts. A render that runs past the limit has its
worker killed; the next render starts a fresh one. Each worker writes its temporary files
(WeasyPrint's copies of the ``@font-face`` fonts) in a folder of its own, removed with it:
a killed worker cannot clean up after itself.
"""

from __future__ import annotations

import atexit
import copy
import hashlib
import multiprocessing
import os
import shutil
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    from portal.pdf.fetcher import StaticOnlyFetcher

STATIC_ROOT = Path(__file__).resolve().parents[2] / "static"
FONT_DIR = STATIC_ROOT / "vendor" / "fonts"
PDF_VARIANT = "pdf/a-3a"  # archival and tagged: readable by screen readers, kept for years
DEFAULT_TIMEOUT = 60.0


class PdfRenderError(RuntimeError):
    """The document could not be rendered (time limit, missing fonts, layout error)."""


_lock = threading.Lock()
_executor: ProcessPoolExecutor | None = None
#: each render process's temporary folder, by pool (removed when the pool is discarded).
_folders: dict[int, Path] = {}


def _fontconfig_file() -> Path:
    """A fontconfig file that lists the project's fonts and nothing else."""
    # One folder per checkout: two copies of the portal on a machine must not swap fonts.
    tag = hashlib.sha256(str(FONT_DIR).encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"portail-fontconfig-{os.getuid()}-{tag}"
    folder.mkdir(exist_ok=True)
    path = folder / "fonts.conf"
    content = (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig>\n  <dir>{FONT_DIR}</dir>\n  <cachedir>{folder / 'cache'}</cachedir>\n"
        "</fontconfig>\n"
    )
    if not path.exists() or path.read_text() != content:
        path.write_text(content)
    return path


def _initialise_worker(fontconfig: str, folder: str) -> None:
    os.environ["FONTCONFIG_FILE"] = fontconfig
    os.environ.pop("FONTCONFIG_PATH", None)
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder


def worker_folder() -> Path | None:
    """The running render process's temporary folder (None before the first render)."""
    with _lock:
        return _folders.get(id(_executor)) if _executor is not None else None


def _remove_folder(executor: ProcessPoolExecutor) -> None:
    folder = _folders.pop(id(executor), None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@atexit.register
def _remove_folders() -> None:
    for folder in list(_folders.values()):
        shutil.rmtree(folder, ignore_errors=True)


def _executor_instance() -> ProcessPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            if not FONT_DIR.is_dir():
                raise PdfRenderError(f"fonts missing in {FONT_DIR}: run `make assets`")
            folder = Path(tempfile.mkdtemp(prefix="portail-render-"))
            _executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_initialise_worker,
                initargs=(str(_fontconfig_file()), str(folder)),
            )
            _folders[id(_executor)] = folder
        return _executor


def _discard_executor(used: ProcessPoolExecutor | None = None) -> None:
    """Kill the render process (of ``used`` only: under threaded workers, another thread may
    already have started a fresh one after the same failure)."""
    global _executor
    with _lock:
        if used is not None and _executor is not used:
            return
        executor, _executor = _executor, None
    if executor is not None:
        for process in list(getattr(executor, "_processes", {}).values()):
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)
        _remove_folder(executor)


#: what the worker makes of the HTML: one PDF, or parts of ``sizes`` pages titled ``titles``.
Job = tuple[str] | tuple[str, tuple[int, ...], tuple[str, ...]]


def _run(job: Job, html: str, timeout: float | None) -> bytes | list[bytes]:
    # Read at each render (not when the module was loaded), so that it can be changed.
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    executor = _executor_instance()
    try:
        # A worker that died while idle breaks the pool at once: submitting then fails too,
        # and the pool must be replaced, or every later render would fail the same way.
        future = executor.submit(_call, job, html, str(STATIC_ROOT))
        return future.result(timeout=timeout)
    except FutureTimeout:
        _discard_executor(executor)
        raise PdfRenderError(f"rendering took more than {timeout:g} s") from None
    except BrokenProcessPool:
        _discard_executor(executor)
        raise PdfRenderError("the rendering process stopped") from None
    except LayoutMismatch as error:
        raise PdfRenderError(str(error)) from None


def render_pdf(html: str, *, timeout: float | None = None) -> bytes:
    """One HTML document to one PDF."""
    result = _run(("document",), html, timeout)
    assert isinstance(result, bytes)
    return result


def render_pdf_pages(html: str, groups: list[int], titles: list[str], *,
                     timeout: float | None = None) -> list[bytes]:
    """Lay a batch out once; return one PDF per group of pages, each with its own title.

    ``groups`` gives the number of pages of each part, in order (e.g. ``[1, 1, 1]`` for
    three one-page certificates); a layout with another number of pages is refused.
    """
    result = _run(("batch", tuple(groups), tuple(titles)), html, timeout)
    assert isinstance(result, list)
    return result


class LayoutMismatch(ValueError):
    """A batch did not lay out into the pages its parts expected."""


#: the stylesheet link of ``templates/pdf/_base.html``: the worker replaces it by the
#: stylesheet it parsed once (``_shared``), with the same rules in the same cascade order.
STYLESHEET_LINK = '<link rel="stylesheet" href="css/print.css">'
_worker_state: dict[str, Any] = {}


def _shared(root: Path, fetcher: StaticOnlyFetcher) -> tuple[FontConfiguration, CSS | None]:
    """The worker's font configuration and parsed ``print.css``, made once per worker.

    A fresh render would load the fontconfig set-up and the eight ``@font-face`` fonts and
    parse the stylesheet again (about two thirds of a one-page document's time); reusing them
    gives the same bytes. Parsed again when the file changes (a developer editing it)."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    path = root / "css" / "print.css"
    stamp = (str(path), path.stat().st_mtime_ns) if path.is_file() else None
    if _worker_state.get("stamp") != stamp or "fonts" not in _worker_state:
        fonts = FontConfiguration()
        _worker_state.update(
            fonts=fonts, stamp=stamp,
            css=CSS(filename=str(path), url_fetcher=fetcher, font_config=fonts)
            if stamp is not None else None)
    return _worker_state["fonts"], _worker_state["css"]


def _call(job: Job, html: str, static_root: str) -> bytes | list[bytes]:
    """Runs in the worker process."""
    from weasyprint import HTML

    from portal.pdf import tagging
    from portal.pdf.fetcher import StaticOnlyFetcher

    tagging.install()
    root = Path(static_root)
    fetcher = StaticOnlyFetcher(root)
    fonts, css = _shared(root, fetcher)
    stylesheets = []
    if css is not None and html.count(STYLESHEET_LINK) == 1:
        html = html.replace(STYLESHEET_LINK, "")
        stylesheets.append(css)
    document = HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=fetcher).render(
        pdf_variant=PDF_VARIANT, pdf_tags=True, font_config=fonts, stylesheets=stylesheets)
    tagging.mark_margin_boxes(document)
    options = {"pdf_variant": PDF_VARIANT, "pdf_tags": True}
    if job[0] == "document":
        return document.write_pdf(**options)
    _kind, sizes, titles = job
    if sum(sizes) != len(document.pages):
        raise LayoutMismatch(f"expected {sum(sizes)} pages, laid out {len(document.pages)}")
    parts: list[bytes] = []
    start = 0
    for size, title in zip(sizes, titles, strict=True):
        part = document.copy(document.pages[start:start + size])
        part.metadata = copy.copy(document.metadata)  # shared otherwise: one title each
        part.metadata.title = title
        parts.append(part.write_pdf(**options))
        start += size
    return parts
