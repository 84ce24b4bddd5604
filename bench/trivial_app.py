"""Baseline: the cheapest POST handler on complyd's server stack (Starlette on uvicorn)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def echo(request: Request) -> Response:
    await request.body()
    return Response(b"{}", headers={"Content-Type": "application/x-amz-json-1.1"})


async def healthz(_request: Request) -> Response:
    return Response(b"ok")


app = Starlette(routes=[Route("/", echo, methods=["POST"]), Route("/healthz", healthz)])
