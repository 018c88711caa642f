"""`registry serve`: hand the process over to gunicorn, configured by registry/gunicorn_config.py."""
import os
import socket
import sys
from typing import NoReturn

WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def served_url(host: str, port: int) -> str:
    """The address a visitor uses: a wildcard bind is reached through the machine's name."""
    name = socket.getfqdn() if host in WILDCARD_HOSTS else host
    return f"http://{name}:{port}"


def exec_gunicorn(host: str, port: int, workers: int, task_worker: bool,
                  app: str | None = None) -> NoReturn:
    """Replace this process with gunicorn: nothing of this command (no app, no context) reaches a worker.

    `app` names another WSGI factory for the workers to build than the configuration's own (a benchmark's:
    the registry with endpoints of its own), served the same way."""
    os.environ.update(REGISTRY_HOST=host, PORT=str(port), REGISTRY_WEB_WORKERS=str(workers),
                      REGISTRY_SERVED_URL=served_url(host, port),
                      REGISTRY_SERVE_TASK_WORKER="1" if task_worker else "0")
    sys.stdout.flush()
    arguments = [sys.executable, "-m", "gunicorn", "--config", "python:registry.gunicorn_config"]
    os.execv(sys.executable, arguments + ([app] if app else []))
