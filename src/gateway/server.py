"""Running the app under uvicorn (uvloop + httptools when available)."""

from __future__ import annotations

import uvicorn

from gateway.settings import Settings


def serve(settings: Settings, *, workers: int = 1) -> None:
    if workers > 1:
        # Each worker process builds its own app from the environment.
        uvicorn.run("gateway.server:app_from_env", factory=True, host=settings.host, port=settings.port,
                    workers=workers, loop="auto", http="auto", log_level="info", access_log=False)
        return
    from gateway.app import create_app

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, loop="auto", http="auto",
                log_level="info", access_log=False)


def app_from_env() -> object:
    from gateway.app import create_app

    return create_app(Settings.from_env())
