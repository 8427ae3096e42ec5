"""The worker and its supervisor: fatal database errors exit, crashes are restarted,
the database backend path runs jobs end to end, and the loop gives up stale work."""

from __future__ import annotations

import datetime as dt
import sys
from unittest import mock

import pytest
from django.core.management import call_command
from django.db.utils import OperationalError
from django.utils import timezone

from kepu.core import jobs
from kepu.core.models import Job, WorkStatus
from kepu.core.supervisor import supervise, worker_command
from kepu.core.worker import EXIT_FATAL, FatalWorkerError, KepuWorker

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}


def make_worker(**kw) -> KepuWorker:
    options = {
        "queue_names": ["default"],
        "interval": 0.01,
        "batch": True,
        "backend_name": "default",
        "startup_delay": False,
        "max_tasks": None,
        "worker_id": "test-worker",
        "excluded_queue_names": [],
        "locked_limit": 0.2,
        "reap_every": 0,
    }
    options.update(kw)
    return KepuWorker(**options)


@pytest.fixture
def db_backend(settings, tmp_path):
    settings.TASKS = DB_TASKS
    settings.KEPU_JOB_MODULES = ("kepu.", "tests.")
    settings.MEDIA_ROOT = tmp_path


# --- fatal errors -------------------------------------------------------------------
def test_database_locked_for_too_long_is_fatal(db):
    worker = make_worker(batch=False)
    locked = OperationalError("database is locked")
    with mock.patch.object(KepuWorker, "_claim", side_effect=locked) as claim:
        with pytest.raises(FatalWorkerError, match="locked for more than"):
            worker.run()
    assert claim.call_count >= 2  # it retried before giving up


def test_a_passing_lock_is_retried(db):
    worker = make_worker()
    calls = iter([OperationalError("database is locked"), None])

    def claim():
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    with mock.patch.object(KepuWorker, "_claim", side_effect=claim):
        worker.run()  # batch: the lock passes, the queue is empty, the worker exits cleanly
    assert worker._locked_since is None


def test_a_lost_connection_is_fatal_at_once(db):
    worker = make_worker(batch=False, locked_limit=1000)
    lost = OperationalError("server closed the connection unexpectedly")
    with mock.patch.object(KepuWorker, "_claim", side_effect=lost):
        with pytest.raises(FatalWorkerError, match="database error"):
            worker.run()


def test_failing_to_record_a_result_is_fatal(db_backend, world):
    job = jobs.job_start(
        user=world.users["admin_a"],
        kind="test",
        organisation=world.orgs["office_a"],
        func="tests.core.test_jobs.write_file_job",
    )
    from django_tasks_db.models import DBTaskResult

    gone = OperationalError("connection already closed")
    with (
        mock.patch.object(DBTaskResult, "set_successful", side_effect=gone),
        mock.patch.object(DBTaskResult, "set_failed", side_effect=gone),
        pytest.raises(FatalWorkerError, match="could not record"),
    ):
        make_worker().run()
    assert job.pk


def test_the_command_exits_non_zero_on_a_fatal_error(db):
    with mock.patch.object(KepuWorker, "_claim", side_effect=OperationalError("disk I/O error")):
        with pytest.raises(SystemExit) as exit_info:
            call_command("kepu_worker", "--interval", "0.01", "--no-color")
    assert exit_info.value.code == EXIT_FATAL


# --- the database backend path, end to end ---------------------------------------------
def test_job_through_the_database_queue_and_the_worker(db_backend, world, client):
    from django_tasks_db.models import DBTaskResult

    job = jobs.job_start(
        user=world.users["admin_a"],
        kind="test",
        organisation=world.orgs["office_a"],
        func="tests.core.test_jobs.write_file_job",
        params={"n": 2},
    )
    assert job.status == WorkStatus.QUEUED and job.task_id
    assert DBTaskResult.objects.get(id=job.task_id).status == "READY"
    make_worker().run()  # batch: runs what is queued, then exits
    job.refresh_from_db()
    assert job.status == WorkStatus.DONE and job.message == "完成 2 步"
    assert DBTaskResult.objects.get(id=job.task_id).status == "SUCCESSFUL"
    client.force_login(world.users["admin_a"])
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 200


def test_a_job_cancelled_in_the_queue_never_runs(db_backend, world, client):
    job = jobs.job_start(
        user=world.users["admin_a"],
        kind="test",
        organisation=world.orgs["office_a"],
        func="tests.core.test_jobs.write_file_job",
    )
    client.force_login(world.users["admin_a"])
    assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 302
    make_worker().run()
    job.refresh_from_db()
    assert job.status == WorkStatus.CANCELLED and job.started_at is None and not job.result


def test_the_worker_loop_gives_up_stale_jobs(db_backend, world):
    old = timezone.now() - dt.timedelta(hours=1)
    job = Job.objects.create(
        kind="test",
        created_by=world.users["admin_a"],
        organisation=world.orgs["office_a"],
        func="tests.core.test_jobs.write_file_job",
        status=WorkStatus.RUNNING,
        started_at=old,
        heartbeat_at=old,
    )
    make_worker().run()
    job.refresh_from_db()
    assert job.status == WorkStatus.FAILED and "后台进程中断" in job.message


# --- supervisor ---------------------------------------------------------------------------
CRASHER = """
import pathlib, sys
p = pathlib.Path(sys.argv[1])
n = int(p.read_text()) if p.exists() else 0
p.write_text(str(n + 1))
sys.exit(0 if n >= 2 else 3)
"""


def test_supervisor_restarts_a_crashing_child_until_it_exits_cleanly(tmp_path):
    counter = tmp_path / "runs"
    log = tmp_path / "log.txt"
    with log.open("w") as out:
        code = supervise([sys.executable, "-c", CRASHER, str(counter)], backoff_start=0.01, log=out)
    assert code == 0
    assert counter.read_text() == "3"  # crashed twice, restarted twice
    text = log.read_text()
    assert "异常退出 (代码 3)" in text and "第 2 次重启" in text


def test_supervisor_backs_off_and_stops_at_the_restart_limit(tmp_path):
    counter = tmp_path / "runs"
    always = CRASHER.replace("n >= 2", "False")
    with (tmp_path / "log.txt").open("w") as out:
        code = supervise(
            [sys.executable, "-c", always, str(counter)],
            backoff_start=0.01,
            max_restarts=2,
            log=out,
        )
    assert code == 3 and counter.read_text() == "3"


def test_worker_command_runs_the_kepu_worker_without_reloader():
    cmd = worker_command(["--interval", "2"])
    assert cmd[-4:] == ["manage", "kepu_worker", "--interval", "2"]
    assert "db_worker" not in cmd and "--reload" not in cmd
