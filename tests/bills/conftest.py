"""Fixtures for bill images: loopback partner simulators, a PDF server, DATA_DIR per test, billers."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from partners.simulators import SimulatorHandle, serve

PDF = b"%PDF-1.4\n% a tiny test PDF\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(scope="session")
def _simulators() -> Iterator[dict[str, SimulatorHandle]]:
    handles = {partner: serve(partner) for partner in ("aus", "cayenta")}
    yield handles
    for handle in handles.values():
        handle.stop()


@pytest.fixture
def aus_sim(_simulators: dict[str, SimulatorHandle]) -> SimulatorHandle:
    _simulators["aus"].reset()
    return _simulators["aus"]


@pytest.fixture
def cayenta_sim(_simulators: dict[str, SimulatorHandle]) -> SimulatorHandle:
    _simulators["cayenta"].reset()
    return _simulators["cayenta"]


class PdfServer:
    """A loopback HTTP server: GET /bill.pdf answers a PDF, /missing.pdf 404, anything else HTML."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                path = self.path.split("?")[0]
                status, kind, body = {
                    "/bill.pdf": (200, "application/pdf", PDF),
                    "/missing.pdf": (404, "text/html", b"<h1>no such bill</h1>"),
                }.get(path, (200, "text/html", b"<html>not a pdf</html>"))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def pdf_server() -> Iterator[PdfServer]:
    server = PdfServer()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Any) -> Any:
    """Every test stores bills in its own DATA_DIR (and hashes test passwords fast)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def set_settings(biller: Any, values: dict[int, str]) -> None:
    from billers.services import biller_setting_set

    for number, value in values.items():
        biller_setting_set(biller=biller, number=number, value=value)
