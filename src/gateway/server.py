"""Running the app under uvicorn (uvloop + httptools when available), with graceful shutdown.

On SIGTERM uvicorn stops accepting, lets in-flight requests finish for up to SHUTDOWN_TIMEOUT
seconds, then runs the app's lifespan exit, which closes the upstream connection pools and Redis.
"""

from __future__ import annotations

import os
import tempfile

import uvicorn

from gateway.observability import configure_logging
from gateway.settings import Settings


def serve(settings: Settings, *, workers: int = 1) -> None:
    configure_logging(settings.log_level, settings.log_format == "json")
    options = {"host": settings.host, "port": settings.port, "loop": "auto", "http": "auto", "access_log": False,
               "log_config": None, "timeout_graceful_shutdown": int(settings.shutdown_timeout)}
    if workers > 1:
        # Each worker builds its own app from the environment; metrics are aggregated across them.
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="gateway-metrics-"))
        uvicorn.run("gateway.server:app_from_env", factory=True, workers=workers, **options)  # type: ignore[arg-type]
        return
    from gateway.app import create_app

    uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]


def app_from_env() -> object:
    from gateway.app import create_app

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format == "json")
    return create_app(settings)
