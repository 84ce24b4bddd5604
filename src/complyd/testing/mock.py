"""mock_compliance(): complyd in this process, answering every boto3/botocore compliance call.

Owns the life of the in-process complyds (the real application from `complyd.web.app` on an
in-memory store of its own, driven by AsgiServer on the caller's thread, and emptied and kept
for the next context with the same settings) and the context manager / decorator that starts
and stops one. Calls reach it through the botocore hook, so they are
signed, validated, stored and answered exactly as by `complyd serve`; every other call is left
to botocore (or to another mock such as moto's).
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import inspect
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

from complyd.config import Settings
from complyd.testing import hook
from complyd.testing.asgi import AsgiServer, Reply

P = ParamSpec("P")
R = TypeVar("R")

# Used when no credentials are in the environment: open mode takes a 12-digit key id as the
# account, and this is the account moto's resources belong to by default.
TEST_ACCESS_KEY_ID = "123456789012"
TEST_SECRET_ACCESS_KEY = "complyd-testing"
DEFAULT_URL = "https://ssm.us-east-1.amazonaws.com"


def _origin(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/")


class _Complyd:
    """One in-process complyd: the real application on its own in-memory store."""

    def __init__(self, settings: Settings) -> None:
        from complyd.storage import memory_url, open_store
        from complyd.web.app import create_app

        self.key = settings
        self.settings = dataclasses.replace(settings, db_url=memory_url())
        self.store = open_store(self.settings.resolved_db_url)
        try:
            # Webhook deliveries go on between requests only on a loop of their own.
            threaded = bool(settings.webhooks)
            app = create_app(self.settings, self.store)
            self.server = AsgiServer(app, threaded=threaded)
        except BaseException:
            self.store.close()
            raise

    def empty(self) -> None:
        """Every tenant's data gone, as when new (the pagination-token key stays)."""
        self.store.submit_write(lambda tx: tx.reset(None)).result()

    def close(self) -> None:
        self.server.close()  # its lifespan closes the store


class _Instances:
    """Idle in-process complyds, kept for the next context with the same settings: starting
    one (a migrated database, an application, its lifespan) costs far more than emptying it."""

    KEEP = 8

    def __init__(self) -> None:
        self._idle: list[_Complyd] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    def take(self, settings: Settings) -> _Complyd:
        with self._lock:
            for n, instance in enumerate(self._idle):
                if instance.key == settings:
                    return self._idle.pop(n)
        return _Complyd(settings)

    def give(self, instance: _Complyd) -> None:
        try:
            instance.empty()
        except Exception:
            instance.close()
            raise
        with self._lock:
            if len(self._idle) < self.KEEP:
                self._idle.append(instance)
                return
        instance.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for instance in idle:
            instance.close()


_instances = _Instances()


class ComplianceMock:
    """One running in-process complyd with its own empty store.

    `endpoint_url=None` takes the compliance calls of every client; otherwise only those of
    clients whose endpoint is that URL, so several mocks with different settings can run side
    by side. `request()` sends a raw HTTP request, for tests of the wire protocol itself.
    """

    def __init__(self, settings: Settings, endpoint_url: str | None = None) -> None:
        self._instance: _Complyd | None = _instances.take(settings)
        self.settings = self._instance.settings
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self._endpoint = _origin(endpoint_url) if endpoint_url else None

    def _server(self) -> AsgiServer:
        if self._instance is None:
            raise RuntimeError("this mock_compliance context has ended")
        return self._instance.server

    def takes(self, url: str) -> bool:
        if self._endpoint is None:
            return True
        scheme, netloc, path = _origin(url)
        base_scheme, base_netloc, base_path = self._endpoint
        same_path = path == base_path or path.startswith(base_path + "/")
        return (scheme, netloc) == (base_scheme, base_netloc) and same_path

    def answer(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> Reply:
        return self._server().request(method, url, headers, body)

    def request(
        self,
        method: str,
        path: str = "/",
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> Reply:
        """One raw HTTP request to this complyd, e.g. to send bytes no SDK would send."""
        url = (self.endpoint_url or DEFAULT_URL) + path
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
        names = {name.lower() for name, _ in pairs}
        if "host" not in names:
            pairs.append(("Host", urlsplit(url).netloc))
        if body and "content-length" not in names:
            pairs.append(("Content-Length", str(len(body))))
        return self._server().request(method, url, pairs, body)

    def close(self) -> None:
        instance, self._instance = self._instance, None
        if instance is not None:
            _instances.give(instance)


class _TestCredentials:
    """Sets test credentials in the environment when it has none, and takes them out again.

    boto3's default session caches the credentials it finds, so while they are set it starts
    from no default session and gets its old one back afterwards (as moto does), lest the test
    credentials outlive the context.
    """

    _lock = threading.Lock()

    def __init__(self) -> None:
        self._set = False
        self._default_session: Any = None

    def __enter__(self) -> None:
        with self._lock:
            if "AWS_ACCESS_KEY_ID" in os.environ:
                return
            os.environ["AWS_ACCESS_KEY_ID"] = TEST_ACCESS_KEY_ID
            os.environ["AWS_SECRET_ACCESS_KEY"] = TEST_SECRET_ACCESS_KEY
            self._set = True
            boto3 = sys.modules.get("boto3")
            if boto3 is not None:
                self._default_session = getattr(boto3, "DEFAULT_SESSION", None)
                setattr(boto3, "DEFAULT_SESSION", None)  # noqa: B010 - boto3 has no stubs here

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            if not self._set:
                return
            self._set = False
            # Only what this context set, and only if nobody has changed it since.
            if os.environ.get("AWS_ACCESS_KEY_ID") == TEST_ACCESS_KEY_ID:
                del os.environ["AWS_ACCESS_KEY_ID"]
                if os.environ.get("AWS_SECRET_ACCESS_KEY") == TEST_SECRET_ACCESS_KEY:
                    del os.environ["AWS_SECRET_ACCESS_KEY"]
            boto3 = sys.modules.get("boto3")
            if boto3 is not None:
                setattr(boto3, "DEFAULT_SESSION", self._default_session)  # noqa: B010
                self._default_session = None


class mock_compliance:  # noqa: N801 - named like moto's mock_aws, which it sits beside
    """Answer SSM compliance calls in this process, as a context manager or a decorator.

        with mock_compliance() as complyd:       # complyd: the running ComplianceMock
            ssm = boto3.client("ssm", region_name="us-east-1")
            ssm.put_compliance_items(...)

        @mock_compliance()
        def test_report(): ...

    Each context (and each call of a decorated function) starts with an empty store, which
    lives until the context ends. `settings` sets complyd's options (say
    `Settings(any_resource_id=True)`); its database is always the mock's own. Without AWS
    credentials in the environment, the context supplies test ones (account 123456789012).
    """

    def __init__(self, settings: Settings | None = None, *, endpoint_url: str | None = None):
        self.settings = settings if settings is not None else Settings()
        self.endpoint_url = endpoint_url
        self._running: list[tuple[ComplianceMock, _TestCredentials]] = []

    def start(self) -> ComplianceMock:
        mock = ComplianceMock(self.settings, self.endpoint_url)
        credentials = _TestCredentials()
        credentials.__enter__()
        hook.push(mock)
        self._running.append((mock, credentials))
        return mock

    def stop(self) -> None:
        if not self._running:
            raise RuntimeError("mock_compliance.stop() called without a matching start()")
        mock, credentials = self._running.pop()
        hook.remove(mock)
        credentials.__exit__()
        mock.close()

    def __enter__(self) -> ComplianceMock:
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _copy(self) -> mock_compliance:
        return mock_compliance(self.settings, endpoint_url=self.endpoint_url)

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        if inspect.isclass(func):
            raise TypeError("decorate test functions, or use the complyd_mock fixture")
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                with self._copy():
                    return await cast(Callable[P, Any], func)(*args, **kwargs)

            return cast(Callable[P, R], run_async)

        @functools.wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            # A fresh copy per call, so recursive or concurrent calls each get their own store.
            with self._copy():
                return func(*args, **kwargs)

        return run


hook.install()
