"""A small real HTTP server on 127.0.0.1 serving canned responses, for crawl tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(
        default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"}
    )
    hang: float = 0.0  # seconds to wait before answering at all
    trickle: float = 0.0  # seconds between body bytes (a slow server)
    length: bool = True  # False: no Content-Length (the body ends when the connection does)


Routes = dict[str, Route | Callable[[dict[str, str]], Route]]  # a callable gets the request headers


class SiteServer:
    """`with SiteServer(routes) as site:` serves routes on `site.url`; unknown paths are 404,
    or whatever `fallback(path)` returns (a trap that makes up pages).

    Route bodies may contain `{base}`, replaced by the server's base URL (no trailing slash).
    """

    def __init__(
        self, routes: Routes, fallback: Callable[[str], Route | None] | None = None
    ) -> None:
        self.routes = routes
        self.fallback = fallback
        self.requests: list[str] = []
        self.times: list[tuple[float, str]] = []
        self.headers: list[dict[str, str]] = []
        self.closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(self.path)
                server.times.append((time.monotonic(), self.path))
                server.headers.append(dict(self.headers.items()))
                route = server.routes.get(self.path)
                if callable(route):
                    route = route(dict(self.headers.items()))
                if route is None and server.fallback is not None:
                    route = server.fallback(self.path)
                if route is None:
                    route = Route(404, b"<html><body><h1>Not found</h1></body></html>")
                if route.hang and server.closing.wait(route.hang):
                    return
                body = route.body.replace(b"{base}", server.url.rstrip("/").encode())
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value.replace("{base}", server.url.rstrip("/")))
                if route.length:
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                try:
                    if not route.trickle:
                        self.wfile.write(body)
                        return
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        if server.closing.wait(route.trickle):
                            return
                except OSError:  # the client gave up
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
