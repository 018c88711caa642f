"""The background task queue: each task queued once, run under its claim, run again when its worker died."""
import fcntl
import json

import pytest

from registry.core import tasks

done: list[tuple] = []
given_up: list[tuple] = []


def record_give_up(*args, reason: str) -> None:
    given_up.append((*args, reason))


@tasks.background_task(give_up=record_give_up)
def remember(value: int) -> None:
    done.append((value,))


@tasks.background_task(give_up=record_give_up)
def explode(value: int) -> None:
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def fresh_lists():
    done.clear()
    given_up.clear()


def claim_state(task: tasks.Task, *args) -> dict:
    return json.loads(tasks.Claim.of(task.name, args).path.read_text())


def test_immediate_mode_runs_the_task_at_once_and_leaves_no_claim(app):
    assert remember.enqueue(7)
    assert done == [(7,)]
    assert list(tasks.claims_folder().glob("*.json")) == []


def test_the_same_work_is_queued_once_until_it_has_run(app, task_queue):
    assert remember.enqueue(1)
    assert not remember.enqueue(1), "already queued"
    assert remember.enqueue(2)
    assert task_queue() == 2
    assert sorted(done) == [(1,), (2,)]
    assert remember.enqueue(1), "run and finished: it may be asked for again"


def test_a_failing_task_is_given_up_with_a_reason_and_its_claim_removed(app, task_queue):
    explode.enqueue(3)
    task_queue()
    assert given_up == [(3, "后台任务发生内部错误，请联系管理员")]
    assert not tasks.Claim.of(explode.name, (3,)).path.exists()


def test_a_claim_held_by_a_live_process_is_left_alone(app, task_queue):
    remember.enqueue(4)
    claim = tasks.Claim.of(remember.name, (4,))
    with claim.path.open("r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # as the worker running it does
        assert tasks.huey.dequeue() is not None  # the worker took it off the queue
        assert tasks.recover_orphans() == 0
    assert done == []


def test_a_started_task_whose_worker_died_is_queued_again_and_runs_once(app, task_queue):
    remember.enqueue(5)
    tasks.huey.dequeue()  # a worker took it ...
    claim = tasks.Claim.of(remember.name, (5,))
    claim.path.write_text(json.dumps(claim_state(remember, 5) | {"attempt": 1, "pid": 999999}))  # ... and died
    assert tasks.recover_orphans() == 1
    assert tasks.recover_orphans() == 0, "already back on the queue"
    assert task_queue() == 1
    assert done == [(5,)]
    assert not claim.path.exists()


def test_a_task_that_keeps_dying_is_given_up(app, task_queue):
    remember.enqueue(6)
    tasks.huey.dequeue()
    claim = tasks.Claim.of(remember.name, (6,))
    claim.path.write_text(json.dumps(claim_state(remember, 6) | {"attempt": tasks.MAX_ATTEMPTS}))
    tasks.recover_orphans()
    task_queue()
    assert done == []
    assert given_up == [(6, f"后台任务已中断 {tasks.MAX_ATTEMPTS} 次（进程被终止或内存不足），已停止重试")]


def test_a_claim_not_yet_queued_is_given_time(app, task_queue):
    tasks.Claim.of(remember.name, (8,)).create()  # the web process is about to queue it
    assert tasks.recover_orphans() == 0


def test_a_task_process_past_its_memory_ceiling_gets_a_memory_error_not_the_machine():
    """What each task process does at start: a file that needs gigabytes fails its own job (MemoryError,
    recorded as 失败 with the reason) instead of taking the machine's memory."""
    import subprocess
    import sys

    code = ("from registry.core.tasks import limit_memory\n"
            "limit_memory(1024)\n"
            "try:\n    bytearray(2 * 1024 ** 3)\nexcept MemoryError:\n    print('MemoryError')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "MemoryError", done.stderr


def test_the_worker_knows_every_task_defined_anywhere_in_the_registry(tmp_path):
    """The worker builds the app and runs what was registered while it did: a module with a @background_task
    or @periodic that nothing the app loads imports would have its work queued and never run. Checked in a fresh
    process, loading the app exactly as `registry worker` does."""
    import ast
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    defined, periodic = set(), set()
    for path in (root / "registry").rglob("*.py"):
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for decorator in getattr(node, "decorator_list", []):
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if getattr(call, "id", None) == "background_task":
                    defined.add(f"{module}.{node.name}")
                elif getattr(call, "id", None) == "periodic":
                    periodic.add(next(k.value.value for k in decorator.keywords if k.arg == "name"))
    assert defined and periodic
    script = ("import json\nfrom registry.app import cli\nfrom flask.cli import ScriptInfo\n"
              "ScriptInfo(create_app=cli.create_app).load_app()\n"
              "from registry.core.tasks import PERIODIC, TASKS\n"
              "print(json.dumps([sorted(TASKS), sorted(PERIODIC)]))\n")
    from registry.people.protection import generate_data_key

    environment = {**os.environ, "REGISTRY_INSTANCE_PATH": str(tmp_path), "REGISTRY_SECRET_KEY": "test",
                   "REGISTRY_DATA_KEY": generate_data_key(),
                   "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite3'}"}
    answer = subprocess.run([sys.executable, "-c", script], env=environment, cwd=root, capture_output=True,
                            text=True, check=True)
    tasks, periodic_tasks = json.loads(answer.stdout.strip().splitlines()[-1])
    assert defined <= set(tasks), defined - set(tasks)
    assert periodic <= set(periodic_tasks), periodic - set(periodic_tasks)
