"""AsgiServer: runs an ASGI application in this process, with no socket, and answers requests.

Owns a private event loop (on its own thread, or driven by each caller in turn), the ASGI
lifespan (startup when created, shutdown when closed) and turning one HTTP request into one
ASGI call, the way uvicorn would: a full
`http` scope, the body in one message, and a plain 500 when the application fails before it
starts answering. Callers on any thread block until their answer is complete. Must not know
what the application serves.

Why not Starlette's TestClient or httpx's ASGITransport: the TestClient sends every request
across to an anyio portal thread and back, which costs more than the fixture's whole budget
per call, and keeps the application's lifespan only inside a `with` block; ASGITransport is
async only and runs no lifespan at all. This one answers on the caller's thread, keeps one
lifespan for the life of the in-process complyd, and drives its loop on a thread of its own
when the application has background work (webhook deliveries) to do between requests.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

log = logging.getLogger("complyd.testing")

AsgiApp = Any  # an ASGI 3 callable: app(scope, receive, send)
T = TypeVar("T")
Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete HTTP answer; header names are lower case, repeated headers joined by ', '."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def http_scope(method: str, url: str, headers: Iterable[tuple[str, str]]) -> Message:
    """The scope uvicorn would build for `method url` with these headers."""
    parts = urlsplit(url)
    default_port = 443 if parts.scheme == "https" else 80
    raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": parts.scheme or "http",
        "path": unquote(parts.path or "/"),
        "raw_path": (parts.path or "/").encode("latin-1"),
        "query_string": parts.query.encode("latin-1"),
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 0),
        "server": (parts.hostname or "localhost", parts.port or default_port),
        "state": {},
    }


class AsgiServer:
    """One application on one private event loop; `close()` runs its shutdown and stops it.

    Threaded (the default), the loop runs on a thread of its own, so the application's
    background work goes on between requests. Unthreaded, each request runs the loop on the
    caller's thread until it is answered (one request at a time): no hand-off to another
    thread per request, while background work moves on only while a request runs. A caller
    whose thread already runs an event loop is answered from a helper thread.
    """

    def __init__(
        self, app: AsgiApp, name: str = "complyd-in-process", *, threaded: bool = True
    ) -> None:
        self._app = app
        self._name = name
        self._threaded = threaded
        self._loop = asyncio.new_event_loop()
        self._closed = False
        self._failure: BaseException | None = None
        self._lock = threading.Lock()
        self._helper: ThreadPoolExecutor | None = None
        self._inbox: asyncio.Queue[Message] | None = None
        self._outbox: asyncio.Queue[Message] | None = None
        self._lifespan: asyncio.Future[Any] | None = None
        if not threaded:
            try:
                self._call(self._startup())
            except BaseException:
                self._loop.close()
                raise
            return
        self._started: Future[None] = Future()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        # Raises here when the application's startup failed.
        self._started.result()

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the loop from this thread (unthreaded), one caller at a time."""
        with self._lock:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return self._loop.run_until_complete(work)
            # This thread runs a loop of its own (an async test): drive ours elsewhere.
            if self._helper is None:
                self._helper = ThreadPoolExecutor(1, thread_name_prefix=self._name)
            return self._helper.submit(self._loop.run_until_complete, work).result()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            # A loop driven by run_until_complete has a root task, which is what anyio (and so
            # Starlette's thread pool) ties the life of its worker threads to.
            self._loop.run_until_complete(self._main())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        except BaseException as exc:  # handed to close(), on the caller's thread
            self._failure = exc
        finally:
            self._loop.close()

    async def _startup(self) -> None:
        self._inbox, self._outbox = asyncio.Queue(), asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._lifespan = asyncio.ensure_future(self._app(scope, self._inbox.get, self._outbox.put))
        try:
            await self._inbox.put({"type": "lifespan.startup"})
            await self._expect("lifespan.startup.complete")
        except BaseException:
            self._lifespan.cancel()
            raise

    async def _shutdown(self) -> None:
        assert self._inbox is not None and self._lifespan is not None
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._expect("lifespan.shutdown.complete")
        await self._lifespan

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            await self._startup()
        except BaseException as exc:
            self._started.set_exception(exc)
            return
        self._started.set_result(None)
        await self._stop.wait()
        await self._shutdown()

    async def _expect(self, wanted: str) -> None:
        assert self._outbox is not None and self._lifespan is not None
        reply = asyncio.ensure_future(self._outbox.get())
        await asyncio.wait({reply, self._lifespan}, return_when=asyncio.FIRST_COMPLETED)
        if not reply.done():
            reply.cancel()
            self._lifespan.result()  # the application's own exception, if it raised one
            raise RuntimeError(f"the application ended its lifespan before sending {wanted}")
        message = reply.result()
        if message["type"] != wanted:
            raise RuntimeError(f"{message['type']}: {message.get('message', '')}")

    def request(
        self, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes = b""
    ) -> Reply:
        """Send one request and wait for its complete answer (from any thread but the loop's)."""
        if self._closed:
            raise RuntimeError("this in-process server is closed")
        scope = http_scope(method, url, headers)
        if not self._threaded:
            return self._call(self._http(scope, body))
        return asyncio.run_coroutine_threadsafe(self._http(scope, body), self._loop).result()

    async def _http(self, scope: Message, body: bytes) -> Reply:
        answered = asyncio.Event()
        body_sent = False
        start: Message = {}
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            # Like a client that keeps the connection open until it has read the answer.
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    answered.set()

        try:
            await self._app(scope, receive, send)
        except Exception:
            if not start:
                log.exception("the application failed before answering")
                return Reply(
                    500, {"content-type": "text/plain; charset=utf-8"}, b"Internal Server Error"
                )
            if not answered.is_set():
                raise
            log.exception("the application failed after answering")
        finally:
            answered.set()
        return Reply(int(start["status"]), _headers(start.get("headers", [])), b"".join(chunks))

    def close(self) -> None:
        """Run the application's shutdown, then stop the loop and its thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if not self._threaded:
            try:
                self._call(self._shutdown())
                self._call(self._loop.shutdown_asyncgens())
            except BaseException as exc:
                raise RuntimeError("the application's shutdown failed") from exc
            finally:
                if self._helper is not None:
                    self._helper.shutdown()
                self._loop.close()
            return
        stop = self._stop
        if stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(stop.set)
        self._thread.join()
        if self._failure is not None:
            raise RuntimeError("the application's shutdown failed") from self._failure


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers
