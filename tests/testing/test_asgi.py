"""AsgiServer: an ASGI application answered in-process, as uvicorn would serve it."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from complyd.testing.asgi import AsgiServer

Scope = dict[str, Any]


class EchoApp:
    """Answers every request with what it received; records its lifespan."""

    def __init__(self, fail_startup: bool = False) -> None:
        self.fail_startup = fail_startup
        self.events: list[str] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    if self.fail_startup:
                        await send({"type": "lifespan.startup.failed", "message": "no database"})
                        return
                    self.events.append("startup")
                    await send({"type": "lifespan.startup.complete"})
                else:
                    self.events.append("shutdown")
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        message = await receive()
        if scope["path"] == "/boom":
            raise ValueError("boom")
        echo = {
            "method": scope["method"],
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode(),
            "query": scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
            "server": list(scope["server"]),
            "body": message["body"].decode(),
            "thread": threading.current_thread().name,
        }
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"X-Part", b"a"), (b"x-part", b"b")],
            }
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        await send({"type": "http.response.body", "body": json.dumps(echo).encode()[1:]})


def test_a_request_arrives_as_uvicorn_would_pass_it() -> None:
    app = EchoApp()
    server = AsgiServer(app, name="echo-loop")
    try:
        reply = server.request(
            "post", "https://ssm.example.com:8443/a%2Fb/c?x=1", [("X-Amz-Target", "T")], b"hi"
        )
    finally:
        server.close()
    assert reply.status == 201
    assert reply.headers["x-part"] == "a, b"
    echo = json.loads(reply.body)
    assert echo["method"] == "POST"
    assert (echo["path"], echo["raw_path"], echo["query"]) == ("/a/b/c", "/a%2Fb/c", "x=1")
    assert echo["headers"] == [["x-amz-target", "T"]]
    assert echo["server"] == ["ssm.example.com", 8443]
    assert echo["body"] == "hi"
    assert echo["thread"] == "echo-loop"
    assert app.events == ["startup", "shutdown"]


def test_an_application_failing_before_it_answers_is_a_plain_500() -> None:
    server = AsgiServer(EchoApp())
    try:
        reply = server.request("GET", "http://h/boom", [])
        assert (reply.status, reply.body) == (500, b"Internal Server Error")
        assert server.request("GET", "http://h/ok", []).status == 201
    finally:
        server.close()


def test_a_failed_startup_is_raised() -> None:
    with pytest.raises(RuntimeError, match="no database"):
        AsgiServer(EchoApp(fail_startup=True))


def test_close_is_idempotent_and_final() -> None:
    server = AsgiServer(EchoApp())
    server.close()
    server.close()
    with pytest.raises(RuntimeError, match="closed"):
        server.request("GET", "http://h/", [])


def on_a_plain_thread(work: Any) -> Any:
    """`work()` on a new thread that runs no event loop (this one may: Playwright's)."""
    with ThreadPoolExecutor(1, thread_name_prefix="plain") as thread:
        return thread.submit(work).result()


def test_unthreaded_requests_run_on_the_callers_thread() -> None:
    app = EchoApp()

    def work() -> tuple[str, str, int]:
        server = AsgiServer(app, threaded=False)
        try:
            reply = server.request("PUT", "http://h/x", [("A", "1")], b"body")
            status = server.request("GET", "http://h/boom", []).status
            assert app.events == ["startup"]
        finally:
            server.close()
        with pytest.raises(RuntimeError, match="closed"):
            server.request("GET", "http://h/", [])
        return json.loads(reply.body)["thread"], threading.current_thread().name, status

    served_on, caller, status = on_a_plain_thread(work)
    assert served_on == caller and status == 500
    assert app.events == ["startup", "shutdown"]


def test_unthreaded_from_inside_a_running_loop_is_answered_on_a_helper_thread() -> None:
    import asyncio

    server = on_a_plain_thread(lambda: AsgiServer(EchoApp(), name="helper", threaded=False))

    async def from_async_code() -> str:
        reply = server.request("GET", "http://h/x", [])
        return str(json.loads(reply.body)["thread"])

    try:
        thread = on_a_plain_thread(lambda: asyncio.run(from_async_code()))
    finally:
        on_a_plain_thread(server.close)
    assert thread != threading.current_thread().name and thread.startswith("helper")


def test_unthreaded_failed_startup_is_raised() -> None:
    with pytest.raises(RuntimeError, match="no database"):
        AsgiServer(EchoApp(fail_startup=True), threaded=False)
