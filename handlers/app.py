"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from handlers.services import Services, build_services
from handlers.web import admin, form, simulator

log = logging.getLogger(__name__)


def create_app(services: Services | None = None) -> FastAPI:
    """The web application: health, admin API, web form and, in demo mode, the simulator."""
    svc = services or build_services()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(title="Madoguchi", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = svc

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        ok = svc.db.ping()
        body = {"status": "ok" if ok else "error", "database": "ok" if ok else "error"}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": "invalid request"}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    app.include_router(admin.router)
    app.include_router(form.router)
    if svc.settings.demo:
        app.include_router(simulator.router)
    return app
