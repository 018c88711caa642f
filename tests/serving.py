"""The app as users run it: `registry serve` (gunicorn, its web workers and the task worker) in a subprocess."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REGISTRY = Path(sys.executable).with_name("registry")  # the command `make install` puts in .venv/bin
START_SECONDS = 60
CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(page: str) -> str | None:
    """The CSRF token a served form carries, as a browser would post it back; None when the page has none."""
    found = CSRF_TOKEN.search(page)
    return found.group(1) if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def registry_environment(database_url: str, instance: Path, data_key: str, **extra: str) -> dict[str, str]:
    return os.environ | {
        "REGISTRY_DATABASE_URL": database_url, "REGISTRY_INSTANCE_PATH": str(instance),
        "REGISTRY_SECRET_KEY": "test-secret-key", "REGISTRY_DATA_KEY": data_key,
        # The checkout under test, whichever checkout the virtualenv was installed from.
        "PYTHONPATH": str(PROJECT_ROOT), "PYTHONUNBUFFERED": "1",
    } | extra


def run_command(environment: dict[str, str], *arguments: str) -> str:
    done = subprocess.run([str(REGISTRY), *arguments], env=environment, capture_output=True, text=True,
                          timeout=300, cwd=PROJECT_ROOT)
    assert done.returncode == 0, f"registry {' '.join(arguments)}: {done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class ServedRegistry:
    """One running `registry serve`: its address, its process group and its log."""

    base_url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pids(self, command_part: str) -> list[int]:
        """Processes of this server whose command line contains `command_part` (e.g. "registry worker")."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) != self.process.pid:
                    continue
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (ProcessLookupError, FileNotFoundError, PermissionError):
                continue
            if command_part in command:
                found.append(int(entry.name))
        return sorted(found)

    def stop(self) -> None:
        for sent in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sent)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=20)
                time.sleep(0.2)  # let the task worker, a child of the master, go too
            except subprocess.TimeoutExpired:
                continue


def serve(environment: dict[str, str], log_path: Path, workers: int = 2) -> ServedRegistry:
    """Start `registry serve --workers N` exactly as `make run` does, and wait until it answers."""
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen([str(REGISTRY), "serve", "--port", str(port), "--workers", str(workers)],
                                   env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                                   start_new_session=True)
    served = ServedRegistry(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"registry serve exited with {process.returncode}:\n{served.log()}")
        try:
            with urllib.request.urlopen(f"{served.base_url}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return served
        except OSError:
            time.sleep(0.2)
    served.stop()
    raise AssertionError(f"registry serve did not answer within {START_SECONDS} s:\n{served.log()}")
