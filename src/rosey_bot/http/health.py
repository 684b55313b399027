"""The health server: ``/api/health`` and ``/api/metrics`` (docs/DESIGN.md#health-and-metrics).

An application factory (``create_app``) so tests build it without a socket,
and ``HealthServer`` runs it under waitress on a daemon thread of the bot.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from waitress.server import create_server

from ..health_contract import FIELDS, HEALTH_PATH, STORAGE
from ..state import BotState
from .metrics import build_registry

log = logging.getLogger(__name__)


def create_app(state: BotState, degraded_error_rate: float = 0.1) -> Flask:
    app = Flask("rosey_bot.health")
    registry = build_registry(state)

    @app.get(HEALTH_PATH)
    def health():
        snap = state.snapshot()
        status = snap.status(degraded_error_rate)
        body = {name: status if name == "status" else getattr(snap, name) for name in FIELDS}
        body[STORAGE] = {
            "writable": snap.storage_ok,
            "buffered_rows": snap.buffered_rows,
            "dropped_rows": snap.dropped_rows,
            "error": snap.storage_error,
        }
        return jsonify(body), 503 if status == "unhealthy" else 200

    @app.get("/api/metrics")
    def metrics():
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return app


class HealthServer:
    """waitress serving the app from its own thread; ``port=0`` picks a free port."""

    def __init__(self, app: Flask, host: str, port: int, threads: int = 4):
        # Bind now, in the caller's thread, so a busy port fails start-up loudly.
        self._server = create_server(app, host=host, port=port, threads=threads, ident="rosey-bot")
        self.host, self.port = self._server.effective_host, self._server.effective_port
        self._thread = threading.Thread(target=self._serve, name="health-server", daemon=True)

    def _serve(self) -> None:
        try:
            self._server.run()
        except OSError:  # closed by stop()
            pass

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("health server listening on http://%s:%s", self.host, self.port)
        return self

    def stop(self) -> None:
        self._server.close()
        self._thread.join(timeout=5)
