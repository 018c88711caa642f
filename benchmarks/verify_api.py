"""The public verify call (GET /api/v1/certificates/<number>) beside hello-world in the same gunicorn server.

The [API] issue: the verify call sustains at least half the requests per second of a hello-world endpoint in
the same gunicorn server on this machine, under bounded load on 127.0.0.1, measured side by side; the
[City scale] issue (#17) raised the target to 0.6×, with the rate limiter on and its counters shared by the
workers.

One server, started the way `registry serve` starts it (registry.server.exec_gunicorn: gunicorn with
registry/gunicorn_config.py, its default 2 sync workers each building the app after the fork, access log on
standard output, here a file) on a throw-away database
with issued certificates. Only this benchmark's server adds its own endpoints: hello-world as a Flask route
on the registry app itself (through the app's request hooks, like every real route), hello-world as a bare
WSGI callable in front of the app (gunicorn alone), and the verify call again under a prefix that the rate
limiter exempts (a diagnostic: what the limiter's bookkeeping costs). The verify limits are raised through
REGISTRY_VERIFY_API_LIMITS so no client is answered 429; the limiter still counts every request.

The load: CONNECTIONS client threads in this process, each with one request in flight over a raw socket
(HTTP/1.1; gunicorn's sync workers close every connection after one response, so each request connects
anew), for SECONDS per run, the endpoints alternating over ROUNDS rounds; medians count. Beside requests/s
and latency, each run reads the server's CPU seconds (master and workers, /proc) per request: a figure
that moves less than wall-clock rates when other processes share the two cores. Every verify answer is
checked before any speed is reported: one request per certificate, compared with the in-process verdict,
then every timed answer must be byte for byte the body checked for its number. The client's own ceiling is
measured against a canned-response server (Python asyncio, one process) answering the same way.
"""
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import sqlalchemy as sa

from benchmarks.certificate_pdf import issue_certificates
from benchmarks.common import Backend, BenchmarkFailed, Options, Result, fresh_app
from registry.core.db import db

NAME = "verify_api"
DEFAULT_ROWS = 300  # certificates issued; one more is revoked
RATIO_LIMIT = 1 / 0.6  # [City scale] (#17): verify sustains ≥ 0.6× hello-world's rate (the [API] issue asked 0.5×)
WORKERS = 2  # `registry serve`'s default
CONNECTIONS = 8
SECONDS = 5.0
WARM_UP_SECONDS = 1.0
ROUNDS = 3
# Far above what this run sends, so no answer is a 429; the limiter's counting still runs.
BENCH_LIMITS = "10000000/minute"
HELLO_PATH = "/bench/hello"  # a Flask route on the registry app
BARE_PATH = "/bench/bare-hello"  # a WSGI callable in front of the app
# The verify call again, exempt from the rate limiter: shows what the limiter's bookkeeping costs.
UNLIMITED_PREFIX = "/bench/unlimited"
UNLIMITED_FLAG = "benchmark.unlimited"
HELLO_BODY = b"Hello, World!"
CANNED = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\n"
          + HELLO_BODY)
START_TIMEOUT = 60.0


# --- the server: the project's serving code plus the benchmark's own hello-world ----------------------

class BenchmarkRoutes:
    """WSGI middleware: answers BARE_PATH itself, before Flask sees the request; passes UNLIMITED_PREFIX/…
    on as … marked for the limiter's request filter."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == BARE_PATH:
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
            return [HELLO_BODY]
        if path.startswith(UNLIMITED_PREFIX + "/"):
            environ["PATH_INFO"], environ[UNLIMITED_FLAG] = path[len(UNLIMITED_PREFIX):], True
        return self.app(environ, start_response)


def hello() -> str:
    return HELLO_BODY.decode()


def bench_app():
    """The registry app with this benchmark's endpoints: what each gunicorn worker builds after the fork."""
    from flask import request

    from registry import create_app
    from registry.core.ratelimit import limiter

    app = create_app()
    app.add_url_rule(HELLO_PATH, "bench_hello", hello)
    app.wsgi_app = BenchmarkRoutes(app.wsgi_app)
    limiter.request_filter(lambda: request.environ.get(UNLIMITED_FLAG, False))
    return app


def serve(port: int) -> None:
    """What `registry serve --port PORT` runs (registry.server.exec_gunicorn: gunicorn with the shared
    configuration, its workers building the app after the fork), the app being bench_app."""
    from registry.server import exec_gunicorn

    exec_gunicorn("127.0.0.1", port, WORKERS, task_worker=False, app="benchmarks.verify_api:bench_app()")


def serve_canned(port: int) -> None:
    """The cheapest answer the client could get: a fixed response, then the connection closed."""
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(CANNED)
            await writer.drain()
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", port, backlog=128)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A subprocess of this module serving on a free port of 127.0.0.1 until stopped."""

    def __init__(self, role: str, log: Path, environment: dict[str, str]):
        self.port = free_port()
        self.log = log
        with log.open("wb") as output:
            command = [sys.executable, "-m", "benchmarks.verify_api", role, str(self.port)]
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=environment,
                                            cwd=Path(__file__).resolve().parent.parent)

    def wait_until_ready(self, path: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchmarkFailed(f"server exited ({self.process.returncode}): {self.tail()}")
            try:
                if get(self.port, path)[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise BenchmarkFailed(f"server did not answer {path} within {START_TIMEOUT:g} s: {self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def cpu_seconds(self) -> float | None:
        """CPU seconds used so far by the server and its workers (Linux /proc; None elsewhere)."""
        try:
            total = 0
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:  # gone meanwhile
                    continue
                # After the name: state, ppid, …; utime and stime are the 14th and 15th fields of the line.
                if entry.name == str(self.process.pid) or fields[1] == str(self.process.pid):
                    total += int(fields[11]) + int(fields[12])
            return total / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        self.process.terminate()  # gunicorn's master stops its workers on SIGTERM
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- the client: a minimal HTTP/1.1 exchange over a socket ---------------------------------------------

def request_bytes(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n\r\n".encode()


def exchange(connection: socket.socket, request: bytes) -> tuple[int, bytes, bool]:
    """Send one request; the status, the body and whether the server closes the connection after it."""
    connection.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the response's headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    headers = head.lower()
    start = headers.find(b"\r\ncontent-length:")
    if start < 0:
        raise ConnectionError("response without Content-Length")
    end = headers.find(b"\r\n", start + 17)
    length = int(headers[start + 17:end if end >= 0 else None])
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed inside the body")
        body += chunk
    return int(head[9:12]), body, b"\r\nconnection: close" in headers


def get(port: int, path: str) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        status, body, _closes = exchange(connection, request_bytes(port, path))
    return status, body


@dataclass
class Run:
    label: str
    requests: int
    seconds: float
    client_cpu: float  # this process's CPU seconds during the run (all client threads)
    latencies: list[float] = field(repr=False)
    connections_opened: int = 0
    server_cpu: float | None = None  # the server's CPU seconds during the run (master and workers)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def server_cpu_per_request(self) -> float | None:
        return self.server_cpu / self.requests if self.server_cpu is not None else None

    def line(self) -> str:
        server = ("" if self.server_cpu is None
                  else f", server CPU {self.server_cpu_per_request * 1e6:,.0f} µs/request")
        client = f"client CPU {self.client_cpu / self.seconds:.0%} of a core"
        return (f"{self.label}: {self.rate:,.0f} req/s, {percentiles([self])}, {client}{server}, "
                f"{self.connections_opened:,} connections")


def drive(label: str, server: Server, paths: list[str], expected: dict[str, bytes] | None,
          seconds: float = SECONDS, connections: int = CONNECTIONS) -> Run:
    """`connections` threads, one request in flight each, for `seconds`; any unexpected answer fails the run.

    expected: path → the exact body every answer to it must carry (None: the status alone is checked).
    """
    port = server.port
    requests = {path: request_bytes(port, path) for path in paths}
    timings: list[list[float]] = [[] for _ in range(connections)]
    opened = [0] * connections
    failures: list[str] = []
    ready = threading.Barrier(connections + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        connection, turn = None, index
        ready.wait()
        try:
            while time.perf_counter() < deadline[0] and not failures:
                path = paths[turn % len(paths)]
                turn += connections
                started = time.perf_counter()
                if connection is None:
                    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
                    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    opened[index] += 1
                status, body, closes = exchange(connection, requests[path])
                timings[index].append(time.perf_counter() - started)
                if status != 200 or (expected is not None and body != expected[path]):
                    failures.append(f"{path}: HTTP {status}, {body[:200]!r}")
                if closes:
                    connection.close()
                    connection = None
        except OSError as error:
            failures.append(f"{type(error).__name__}: {error}")
        finally:
            if connection is not None:
                connection.close()

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(connections)]
    for thread in threads:
        thread.start()
    cpu, server_cpu = time.process_time(), server.cpu_seconds()
    start = time.perf_counter()
    deadline[0] = start + seconds
    ready.wait()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if server_cpu is not None and (server_now := server.cpu_seconds()) is not None:
        server_cpu = server_now - server_cpu
    if failures:
        raise BenchmarkFailed(f"{label}: {len(failures)} unexpected answers, first: {failures[0]}")
    every = [timing for per_thread in timings for timing in per_thread]
    return Run(label, len(every), elapsed, cpu, every, sum(opened), server_cpu)


# --- the data and the checks ---------------------------------------------------------------------------

def certificates_to_verify(count: int) -> tuple[list[str], str]:
    """`count` certificates issued through the real operations, plus one issued and then revoked."""
    from registry.certificates.models import Certificate
    from registry.certificates.operations import revoke_certificate

    certificates, _seconds = issue_certificates(count + 1)
    revoked = certificates[-1]
    revoke_certificate(None, revoked, "基准测试：撤销一张证书")
    db.session.commit()
    numbers = [certificate.number for certificate in certificates]
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(Certificate))
    if stored != count + 1:
        raise BenchmarkFailed(f"{stored} certificates stored, {count + 1} issued")
    return numbers, revoked.number


def checked_bodies(port: int, numbers: list[str], revoked: str) -> dict[str, bytes]:
    """Every number once over HTTP: 200, the right outcome, and the same JSON the verdict gives in-process."""
    from registry.certificates import verification

    bodies = {}
    for number in numbers:
        path = f"/api/v1/certificates/{number}"
        status, body = get(port, path)
        answer = json.loads(body) if status == 200 else None
        want = "revoked" if number == revoked else "valid"
        if answer is None or answer.get("outcome") != want:
            raise BenchmarkFailed(f"{path}: HTTP {status}, expected outcome {want}: {body[:300]!r}")
        db.session.expire_all()
        in_process = verification.verify_number(number).as_json() | {"qr_signature_valid": None}
        if answer != in_process:
            raise BenchmarkFailed(f"{path}: answer differs from the in-process verdict: {answer} ≠ "
                                  f"{in_process}")
        bodies[path] = body
    status, body = get(port, "/api/v1/certificates/S000041900001254999999")
    if status != 404 or json.loads(body).get("error") != "not_found":
        raise BenchmarkFailed(f"unknown number: HTTP {status} {body[:200]!r}")
    return bodies


def load_average() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


# --- the benchmark -------------------------------------------------------------------------------------

def run(options: Options) -> Iterator[Result]:
    count = options.rows or DEFAULT_ROWS
    rounds = max(options.repeat, ROUNDS)
    for backend in options.backends:
        yield from run_on(backend, options, count, rounds)


def run_on(backend: Backend, options: Options, count: int, rounds: int) -> Iterator[Result]:
    label = f"{backend.name}-verify-api"
    with fresh_app(backend, options.workdir, label):
        numbers, revoked = certificates_to_verify(count)
        environment = os.environ | {"REGISTRY_VERIFY_API_LIMITS": BENCH_LIMITS, "PYTHONUNBUFFERED": "1"}
        loads = [load_average()]
        server = Server("serve", options.workdir / label / "gunicorn.log", environment)
        try:
            server.wait_until_ready(HELLO_PATH)
            bodies = checked_bodies(server.port, numbers, revoked)
            runs = measure(server, list(bodies), bodies, rounds)
        finally:
            server.stop()
        ceiling = client_ceiling(options.workdir / label / "canned.log", environment)
        loads.append(load_average())
    yield from results(backend.name, runs, ceiling, loads)


def measure(server: Server, verify_paths: list[str], bodies: dict[str, bytes],
            rounds: int) -> dict[str, list[Run]]:
    hello_bodies = {HELLO_PATH: HELLO_BODY, BARE_PATH: HELLO_BODY}
    unlimited = {UNLIMITED_PREFIX + path: body for path, body in bodies.items()}
    sides = {"bare": ([BARE_PATH], hello_bodies), "hello": ([HELLO_PATH], hello_bodies),
             "verify": (verify_paths, bodies), "unlimited": (list(unlimited), unlimited)}
    for name, (paths, expected) in sides.items():  # every worker's connections, caches and imports warmed
        drive(f"warm-up {name}", server, paths, expected, WARM_UP_SECONDS)
    runs: dict[str, list[Run]] = {name: [] for name in sides}
    for round_number in range(1, rounds + 1):
        for name, (paths, expected) in sides.items():
            measured = drive(f"  round {round_number} {name}", server, paths, expected)
            print(measured.line(), flush=True)
            runs[name].append(measured)
    return runs


def client_ceiling(log: Path, environment: dict[str, str]) -> Run:
    canned = Server("canned", log, environment)
    try:
        canned.wait_until_ready("/")
        drive("warm-up canned", canned, ["/"], {"/": HELLO_BODY}, WARM_UP_SECONDS)
        measured = drive("  client ceiling (canned server)", canned, ["/"], {"/": HELLO_BODY})
    finally:
        canned.stop()
    print(measured.line(), flush=True)
    return measured


def results(backend: str, runs: dict[str, list[Run]], ceiling: Run, loads: list[str]) -> Iterator[Result]:
    rate = {name: median(run.rate for run in measured) for name, measured in runs.items()}
    spread = {name: f"{min(run.rate for run in measured):,.0f}–{max(run.rate for run in measured):,.0f}"
              for name, measured in runs.items()}
    cpu = {name: server_cpu_per_request(measured) for name, measured in runs.items()}

    def side(name: str) -> str:
        server = "" if cpu[name] is None else f", server CPU {cpu[name] * 1e6:,.0f} µs/request"
        return f"{name} {spread[name]} req/s, {percentiles(runs[name])}{server}"

    def compared(title: str, ours: str, raw: str, limit: float | None = None, more: str = "") -> Result:
        """Rows: `ours`'s requests; seconds: those requests at each side's median rate."""
        requests = sum(run.requests for run in runs[ours])
        target = f" (target ≥ {1 / limit:.2g}×)" if limit else ""
        note = f"{ours}/{raw} {rate[ours] / rate[raw]:.2f}×{target}; {side(ours)}; {side(raw)}{more}"
        return Result(title, backend, requests, requests / rate[ours], requests / rate[raw], limit=limit,
                      cpu_ratio=cpu[ours] / cpu[raw] if cpu[ours] and cpu[raw] else None, note=note)

    yield compared("verify API vs hello-world (Flask route)", "verify", "hello", RATIO_LIMIT,
                   f"; {CONNECTIONS} connections, {WORKERS} sync workers; load {loads[0]} → {loads[1]}")
    yield compared("verify API vs bare WSGI hello-world", "verify", "bare")
    yield compared("verify API exempt from the rate limiter (diagnostic)", "unlimited", "hello")
    # One Python process: its threads share one core at most (the GIL), so its CPU share tells its ceiling.
    share = ceiling.client_cpu / ceiling.seconds
    yield Result("client ceiling (canned-response server)", backend, ceiling.requests, ceiling.seconds,
                 note=f"client CPU {share:.0%} of a core, {ceiling.client_cpu / ceiling.requests * 1e6:.0f} "
                      f"µs/request: alone ≈ {ceiling.rate / share:,.0f} req/s; in the hello runs it used "
                      f"{median(run.client_cpu / run.seconds for run in runs['hello']):.0%}")


def percentiles(runs: list[Run]) -> str:
    ordered = sorted(latency for run in runs for latency in run.latencies)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return f"p50 {at(0.5):.1f} ms, p95 {at(0.95):.1f} ms"


def server_cpu_per_request(runs: list[Run]) -> float | None:
    """The median over the rounds of the server's CPU seconds per request; None when it was not measured."""
    figures = [run.server_cpu_per_request for run in runs]
    return median(figures) if figures and None not in figures else None


if __name__ == "__main__":
    role, port_text = sys.argv[1:3]
    {"serve": serve, "canned": serve_canned}[role](int(port_text))
