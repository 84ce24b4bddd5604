"""`complyd serve --workers N`: the server as N processes sharing one listening socket.

One Python process spends its requests' CPU under one interpreter lock, so on a machine with
cores to spare a single process is the limit. uvicorn's supervisor starts the workers and
restarts any that dies (and all of them, one at a time, on SIGHUP: the credentials file is
read again); each worker builds its own application from the settings the parent hands it
in the environment (every setting but the keys, which each worker reads from the credentials
file). The parent migrates the database, creates the token key and applies `--seed` before
any worker starts. Must not contain compliance rules.
"""

from __future__ import annotations

import dataclasses
import gc
import os
from pathlib import Path
from typing import Any

import orjson

from complyd.config import Settings, load_credentials
from complyd.logs import configure as configure_logs
from complyd.storage import open_store
from complyd.web.app import Complyd, create_app
from complyd.web.protocol import Limits, configure_limits

SETTINGS_VARIABLE = "COMPLYD_WORKER_SETTINGS"
# uvicorn imports the application of each worker by this name.
APP = "complyd.web.workers:app"


def to_environment(settings: Settings) -> None:
    """Hand `settings` to the workers that the server is about to start."""
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if f.name == "credentials":
            continue  # each worker reads the credentials file itself
        fields[f.name] = str(value) if isinstance(value, Path) else value
    os.environ[SETTINGS_VARIABLE] = orjson.dumps(fields).decode()


def from_environment() -> Settings:
    fields = orjson.loads(os.environ[SETTINGS_VARIABLE])
    path = fields.get("credentials_file")
    if path is not None:
        fields["credentials_file"] = Path(path)
        fields["credentials"] = load_credentials(Path(path))
    fields["webhooks"] = tuple(fields["webhooks"])
    return Settings(**fields)


def app() -> Complyd:
    """The application of one worker process (uvicorn calls this in each worker)."""
    settings = from_environment()
    configure_logs(settings.log_level, settings.log_format)
    configure_limits(Limits(settings.max_header_size, settings.max_header_count))
    app = create_app(settings, open_store(settings.resolved_db_url))
    gc.collect()
    gc.freeze()  # as cli.settle_heap does for a single process
    return app
