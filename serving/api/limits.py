"""Errors the server itself produces, as problem+json like every other error.

Two places answer before any route runs:

- :class:`QueryLimit`, an ASGI middleware: a query string over
  ``MAX_QUERY_BYTES`` gets a 414 problem (no endpoint takes more than a few
  short parameters, and a long one is a probe or a mistake);
- :class:`ProblemHttpToolsProtocol`, uvicorn's httptools protocol with its
  plain-text ``400 Invalid HTTP request received.`` replaced by a problem
  document. The parser refuses a request line or headers above about 80 kB
  before the app sees them (a 100 kB query string, say); that answer is 414
  when the URL is what overflowed, 431 for headers, else 400.
"""

from __future__ import annotations

import json
from http import HTTPStatus

import httptools
from fastapi import Request
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from serving.api.problems import PROBLEM_TYPE, problem_response

__all__ = ["MAX_QUERY_BYTES", "QueryLimit", "ProblemHttpToolsProtocol", "parser_problem"]

MAX_QUERY_BYTES = 8192


class QueryLimit:
    """ASGI middleware: 414 problem for a query string above ``limit`` bytes."""

    def __init__(self, app, limit: int = MAX_QUERY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):  # noqa: D102 (ASGI entry point)
        if scope["type"] == "http" and len(scope.get("query_string", b"")) > self.limit:
            request = Request(scope, receive)
            detail = f"query string longer than {self.limit} bytes"
            return await problem_response(request, 414, detail)(scope, receive, send)
        return await self.app(scope, receive, send)


def parser_problem(url_so_far: bytes, error: Exception) -> tuple[int, bytes]:
    """Status and problem+json body for a request the HTTP parser refused."""
    if len(url_so_far) > MAX_QUERY_BYTES:  # httptools refuses URLs over 64 kB
        status, detail = 414, f"request URL longer than {MAX_QUERY_BYTES} bytes"
    elif "overflow" in str(error).lower():
        status, detail = 431, "request headers larger than the server accepts (about 80 kB)"
    else:
        status, detail = 400, f"malformed HTTP request ({error})"
    phrase = HTTPStatus(status).phrase
    body = {
        "type": f"https://vrdp.example/problems/{phrase.lower().replace(' ', '-')}",
        "title": phrase,
        "status": status,
        "detail": detail,
        "instance": url_so_far.split(b"?", 1)[0][:200].decode("latin-1") or "/",
    }
    return status, json.dumps(body).encode()


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; refused requests get a problem document."""

    def data_received(self, data: bytes) -> None:
        """Feed the parser; a parse error is answered with problem+json, then closed."""
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as exc:
            self.logger.warning("Invalid HTTP request received: %s", exc)
            status, body = parser_problem(self.url, exc)
            head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()]
            for name, value in self.server_state.default_headers:
                head.append(name + b": " + value + b"\r\n")
            head.append(
                f"content-type: {PROBLEM_TYPE}\r\ncontent-length: {len(body)}\r\n"
                "connection: close\r\n\r\n".encode()
            )
            self.transport.write(b"".join(head) + body)
            self.transport.close()
