"""Running the app under gunicorn from the `registry serve` command."""
from flask import Flask
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def run_gunicorn(app: Flask, host: str, port: int, workers: int) -> None:
    # The engine must not be shared across forked workers: each worker opens its own connections.
    from registry.core.db import db

    db.engine.dispose()
    _Gunicorn(app, {"bind": f"{host}:{port}", "workers": workers, "accesslog": "-", "timeout": 120}).run()
