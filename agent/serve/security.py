"""What every request to ``agent serve`` passes before a route sees it: the Host it names (DNS rebinding), the token,
where a state-changing call comes from (cross-site requests), and the size of its body. Plus the names an upload
may be stored under.

Browsers send ``Origin`` on every cross-origin POST and ``Sec-Fetch-Site`` on every request; a call that changes
state is refused when either says another site sent it. Scripts (``curl``, the CLI) send neither and need the token
when one is set.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Guard", "safe_name", "LOOPBACK", "COOKIE"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
COOKIE = "mmagent_token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def safe_name(raw: str, taken: set[str] | None = None) -> str:
    """A file name that is only letters, digits, ``._-``, no folder and no leading dot, unique in ``taken``.

    Example:
        >>> safe_name("../../etc/passwd"), safe_name("C:\\\\x\\\\my photo (1).png"), safe_name(".env")
        ('passwd', 'my_photo__1_.png', 'env')
        >>> safe_name("a.png", {"a.png"})
        'a_2.png'
    """
    base = re.split(r"[\\/]", raw)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")[-100:] or "upload"
    stem, dot, ext = name.partition(".")
    candidate, n = name, 2
    while taken is not None and candidate in taken:
        candidate, n = f"{stem}_{n}{dot}{ext}", n + 1
    if taken is not None:
        taken.add(candidate)
    return candidate


class Guard:
    """ASGI middleware: Host check when bound to loopback, token on ``/api/``, no cross-site state changes, and a
    cap on request bodies.

    Args:
        app: The application it guards.
        token: The API token (None: no token, only allowed on loopback).
        loopback: The server listens on loopback only: then a request must name a loopback Host, so a web page
            whose domain was made to resolve to 127.0.0.1 (DNS rebinding) cannot reach it.
        max_body: Largest request body, in bytes.
    """

    def __init__(self, app: ASGIApp, *, token: str | None, loopback: bool, max_body: int) -> None:
        self.app = app
        self.token = token
        self.loopback = loopback
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        host = headers.get("host", "")
        if self.loopback and (urlsplit(f"//{host}").hostname or "") not in LOOPBACK | {"::1"}:
            await _refuse(send, 421, f"host {host!r} is not this server's; use http://127.0.0.1")
            return
        if method not in _SAFE:
            origin = headers.get("origin")
            own = f"{scope.get('scheme', 'http')}://{host}"
            if origin is not None and origin != own:
                await _refuse(send, 403, f"cross-site request from {origin!r} refused")
                return
            if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
                await _refuse(send, 403, f"cross-site request ({headers['sec-fetch-site']}) refused")
                return
        if self.token is not None and path.startswith("/api/") and not self._authorized(headers):
            await _refuse(send, 401, "missing or wrong token; send 'Authorization: Bearer TOKEN' or open "
                                     "the console at /?token=TOKEN", {"www-authenticate": "Bearer"})
            return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _refuse(send, 413, f"request body of {int(length)} bytes is over the limit of {self.max_body} "
                                     "bytes (MMAGENT_MAX_INPUT_MB a file)")
            return
        await self.app(scope, self._capped(receive), send)

    def _authorized(self, headers: dict[str, str]) -> bool:
        assert self.token is not None
        given = ""
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        else:
            for part in headers.get("cookie", "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == COOKIE:
                    given = value
        return secrets.compare_digest(given.encode(), self.token.encode())

    def _capped(self, receive: Callable[[], Awaitable[Message]]) -> Callable[[], Awaitable[Message]]:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:  # a chunked upload with no length: stop reading it
                    raise BodyTooLarge(self.max_body)
            return message

        return counted


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is over the limit of {limit} bytes (MMAGENT_MAX_INPUT_MB a file)")


async def _refuse(send: Callable[[Message], Awaitable[None]], status: int, message: str,
                  extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
