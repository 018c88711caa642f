"""gunicorn's settings: the one configuration that `registry serve`, `make run` and the systemd unit share.

Each web worker builds the app from the factory after the fork (no preload, never inside an app context), so
no request state, `g`, session or database connection is shared between workers or carried from one request
to the next. `registry serve` passes its options through the environment; a plain
`gunicorn --config python:registry.gunicorn_config` reads the same variables (docs/DEPLOYMENT.md).
"""
import os
import subprocess
import sys

from registry.core.config import public_url

wsgi_app = "registry.app:create_app()"
bind = f"{os.environ.get('REGISTRY_HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("REGISTRY_WEB_WORKERS", "2"))
worker_class = "sync"
preload_app = False
timeout = 120
accesslog = "-"
proc_name = "registry-web"
# gunicorn's control socket sits at one path per user: two servers on one machine would fight over it.
control_socket_disable = True


def when_ready(server) -> None:
    """Say where certificates point, and start the task worker beside the web workers when asked to."""
    source = "REGISTRY_PUBLIC_URL" if os.environ.get("REGISTRY_PUBLIC_URL") else "实际服务的地址和端口"
    server.log.info("证书二维码与 PDF 中的查询地址：%s/verify（取自 %s）", public_url(), source)
    if os.environ.get("REGISTRY_SERVE_TASK_WORKER") == "1":
        server.task_worker = subprocess.Popen([sys.executable, "-m", "registry", "worker"])
        server.log.info("后台任务进程已启动（pid %s）", server.task_worker.pid)


def on_exit(server) -> None:
    worker = getattr(server, "task_worker", None)
    if worker is not None and worker.poll() is None:
        worker.terminate()  # huey finishes the running task's step and stops; a cut-off task is recovered
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
