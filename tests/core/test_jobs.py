"""Generic background jobs: running, progress, failure, cancel, stale detection, scoping.

The job functions below are started through ``job_start`` with their dotted path, the
way other code starts its own.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from kepu.audit.models import AuditEntry
from kepu.core import jobs
from kepu.core.models import Job, WorkStatus

PREFIX = "tests.core.test_jobs"


# --- job functions --------------------------------------------------------------------
def write_file_job(ctx: jobs.JobContext) -> str:
    n = int(ctx.params.get("n", 3))
    for i in range(n):
        ctx.progress((i + 1) / n, f"第 {i + 1}/{n} 步")
    ctx.save_result("out.txt", io.BytesIO("结果内容".encode()), display_name="结果.txt")
    return f"完成 {n} 步"


def crash_job(ctx: jobs.JobContext) -> str:
    ctx.progress(0.3, "进行到一半")
    raise ValueError("坏数据")


def clean_failure_job(ctx: jobs.JobContext) -> str:
    raise jobs.JobFailed("导入失败: 第3行: 缺少编号", "第3行: 缺少编号")


def self_cancelling_job(ctx: jobs.JobContext) -> str:
    ctx.progress(0.2, "开始")
    jobs.work_cancel(user=ctx.user, obj=ctx.job)  # as if a user clicked 取消 meanwhile
    ctx.progress(0.5, "这一步不应该写入")
    Job.objects.filter(pk=ctx.job.pk).update(title="不应执行到这里")
    return "不应完成"


def progress_in_transaction_job(ctx: jobs.JobContext) -> str:
    from django.db import transaction

    with transaction.atomic():  # e.g. an import's bulk save
        ctx.progress(0.5, "事务内的进度")
        seen = Job.objects.get(pk=ctx.job.pk).message
    ctx.progress(0.9, "事务外的进度")
    after = Job.objects.get(pk=ctx.job.pk).message
    return f"{seen} / {after}"


@pytest.fixture(autouse=True)
def _job_modules(settings, tmp_path):
    settings.KEPU_JOB_MODULES = ("kepu.", "tests.")
    settings.MEDIA_ROOT = tmp_path


def start(world, who="admin_a", func="write_file_job", **params) -> Job:
    user = world.users[who]
    return jobs.job_start(
        user=user,
        kind="test",
        organisation=jobs.job_organisation(user),
        func=f"{PREFIX}.{func}",
        params=params,
        title="测试任务",
    )


# --- running ------------------------------------------------------------------------------
def test_job_runs_reports_progress_and_stores_its_result(world, client):
    job = start(world, n=4)
    assert job.status == WorkStatus.DONE, job.message
    assert job.progress == 100 and job.message == "完成 4 步"
    assert job.started_at and job.finished_at and job.heartbeat_at
    assert job.organisation == world.orgs["office_a"] and job.task_id
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("jobs:download", args=[job.pk]))
    assert resp.status_code == 200
    assert b"".join(resp.streaming_content).decode() == "结果内容"
    assert "attachment" in resp["Content-Disposition"]
    # starting a job is an audited write
    assert AuditEntry.objects.filter(object_id=str(job.pk), action="create").exists()


def test_crash_marks_the_job_failed_with_a_chinese_message(world, client):
    job = start(world, func="crash_job")
    assert job.status == WorkStatus.FAILED
    assert job.message == "执行出错: ValueError: 坏数据"
    assert "Traceback" in job.error and "坏数据" in job.error
    client.force_login(world.users["admin_a"])
    html = client.get(reverse("jobs:status", args=[job.pk])).content.decode()
    assert "失败" in html and "坏数据" in html and "hx-get" not in html
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404


def test_job_failed_gives_the_message_without_prefix(world):
    job = start(world, func="clean_failure_job")
    assert job.status == WorkStatus.FAILED
    assert job.message == "导入失败: 第3行: 缺少编号"


def test_cancel_while_running_stops_at_the_next_progress(world):
    job = start(world, func="self_cancelling_job")
    assert job.status == WorkStatus.CANCELLED
    assert job.title == "测试任务"  # the job function stopped at progress()
    assert job.progress == 20 and job.message.startswith("已由 admin_a 取消")
    assert AuditEntry.objects.filter(object_id=str(job.pk), action="update").exists()


def test_progress_inside_the_works_own_transaction_is_not_written(world):
    job = start(world, func="progress_in_transaction_job")
    assert job.status == WorkStatus.DONE
    assert job.message == "开始执行 / 事务外的进度"


def test_job_start_refuses_an_organisation_of_someone_else(world):
    with pytest.raises(PermissionDenied):
        jobs.job_start(
            user=world.users["admin_a"],
            kind="test",
            organisation=world.orgs["office_b"],
            func=f"{PREFIX}.write_file_job",
            params={},
        )
    with pytest.raises(PermissionDenied):
        jobs.job_start(
            user=world.users["nobody"],
            kind="test",
            organisation=None,
            func=f"{PREFIX}.write_file_job",
        )
    assert not Job.objects.exists()


def test_job_start_refuses_functions_outside_the_allowed_modules(world, settings):
    settings.KEPU_JOB_MODULES = ("kepu.",)
    with pytest.raises(ValueError):
        start(world)
    with pytest.raises(ValueError):
        jobs.job_start(
            user=world.users["super"],
            kind="x",
            organisation=None,
            func="os.system",
            params={"command": "true"},
        )


# --- stale detection ------------------------------------------------------------------
def _killed_job(world, *, minutes: int = 30, status: str = WorkStatus.RUNNING) -> Job:
    """A job whose worker was killed mid-run: left 'running' with an old heartbeat."""
    old = timezone.now() - dt.timedelta(minutes=minutes)
    job = Job.objects.create(
        kind="test",
        title="被中断的任务",
        created_by=world.users["admin_a"],
        organisation=world.orgs["office_a"],
        func=f"{PREFIX}.write_file_job",
        status=status,
        progress=2,
        message="计算中",
        started_at=old,
        heartbeat_at=old,
    )
    Job.objects.filter(pk=job.pk).update(created_at=old)
    return job


def test_killed_worker_job_shows_failed_with_reason_when_status_is_read(world, client, settings):
    settings.KEPU_JOB_STALE_SECONDS = 600
    job = _killed_job(world)
    fresh = _killed_job(world, minutes=1)  # a live job nearby is left alone
    client.force_login(world.users["admin_a"])
    html = client.get(reverse("jobs:status", args=[job.pk])).content.decode()
    assert "失败" in html and "后台进程中断" in html
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.status == WorkStatus.FAILED and "超过 10 分钟没有心跳" in job.message
    assert job.finished_at is not None
    assert fresh.status == WorkStatus.RUNNING


def test_reap_fails_the_queue_entry_of_a_dead_job_too(world, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    job = start(world)
    entry = DBTaskResult.objects.get(id=job.task_id)
    entry.claim("dead-worker")  # a worker took it, then was killed
    old = timezone.now() - dt.timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(
        status=WorkStatus.RUNNING, started_at=old, heartbeat_at=old
    )
    assert jobs.reap_stale() == 1
    entry.refresh_from_db()
    assert entry.status == "FAILED" and "后台进程中断" in entry.traceback


def test_queued_job_whose_queue_entry_is_gone_is_failed(world, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    job = start(world)
    assert job.status == WorkStatus.QUEUED
    assert jobs.reap_stale() == 0  # young and waiting: fine
    DBTaskResult.objects.filter(id=job.task_id).delete()
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    assert jobs.reap_stale() == 1
    job.refresh_from_db()
    assert job.status == WorkStatus.FAILED and "未能执行" in job.message


@pytest.mark.django_db(transaction=True)
def test_heartbeat_thread_beats_while_a_silent_step_runs(world, settings):
    settings.KEPU_JOB_HEARTBEAT_SECONDS = 0.05
    old = timezone.now() - dt.timedelta(hours=1)
    job = _killed_job(world, minutes=60)
    tracker = jobs.Tracker(Job, job.pk)
    with jobs.heartbeat(tracker):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.heartbeat_at > old + dt.timedelta(minutes=30):
                break
            time.sleep(0.05)
    assert job.heartbeat_at > timezone.now() - dt.timedelta(seconds=30)
    assert not [t for t in threading.enumerate() if t.name == f"heartbeat-{job.pk}"]


# --- views and scoping --------------------------------------------------------------------
USERS = ["super", "admin_a", "admin_b", "viewer_a", "staff_a1", "staff_a2", "nobody", "anon"]
CAN_VIEW = {"super", "admin_a", "viewer_a"}
CAN_CANCEL = {"super", "admin_a"}


def _client(client, world, who):
    if who != "anon":
        client.force_login(world.users[who])
    return client


def _queued_job(world) -> Job:
    return Job.objects.create(
        kind="test",
        title="排队的任务",
        created_by=world.users["admin_a"],
        organisation=world.orgs["office_a"],
        func=f"{PREFIX}.write_file_job",
        message="排队等待后台任务执行",
    )


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("name", ["jobs:detail", "jobs:status"])
def test_job_pages_are_scoped(client, world, who, name):
    job = _queued_job(world)
    resp = _client(client, world, who).get(reverse(name, args=[job.pk]))
    if who == "anon":
        assert resp.status_code == 302 and resp["Location"].startswith(reverse("login"))
    elif who in CAN_VIEW:
        html = resp.content.decode()
        assert resp.status_code == 200 and "排队的任务" in html and "排队中" in html
        assert ("取消任务" in html) == (who in CAN_CANCEL)
    else:
        assert resp.status_code == 404


@pytest.mark.parametrize("who", USERS)
def test_job_cancel_is_scoped(client, world, who):
    job = _queued_job(world)
    resp = _client(client, world, who).post(reverse("jobs:cancel", args=[job.pk]))
    job.refresh_from_db()
    if who == "anon":
        assert resp.status_code == 302 and resp["Location"].startswith(reverse("login"))
        assert job.status == WorkStatus.QUEUED
    elif who in CAN_CANCEL:
        assert resp.status_code == 302 and job.status == WorkStatus.CANCELLED
    elif who in CAN_VIEW:
        assert resp.status_code == 403 and job.status == WorkStatus.QUEUED
    else:
        assert resp.status_code == 404 and job.status == WorkStatus.QUEUED


def test_job_cancel_requires_post_and_is_idempotent(client, world):
    job = _queued_job(world)
    c = _client(client, world, "admin_a")
    assert c.get(reverse("jobs:cancel", args=[job.pk])).status_code == 405
    assert c.post(reverse("jobs:cancel", args=[job.pk])).status_code == 302
    resp = c.post(reverse("jobs:cancel", args=[job.pk]), follow=True)
    assert "已经结束" in resp.content.decode()


@pytest.mark.parametrize("who", USERS)
def test_job_download_is_scoped(client, world, who):
    job = start(world)
    resp = _client(client, world, who).get(reverse("jobs:download", args=[job.pk]))
    if who == "anon":
        assert resp.status_code == 302
    elif who in CAN_VIEW:
        assert resp.status_code == 200
    else:
        assert resp.status_code == 404


@pytest.mark.parametrize("who", USERS)
def test_job_list(client, world, who):
    mine = _queued_job(world)
    resp = _client(client, world, who).get(reverse("jobs:list"))
    if who == "anon":
        assert resp.status_code == 302
        return
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "我的后台任务" in html
    # only one's own jobs by default; the scope's jobs on request, through the gate
    assert ("排队的任务" in html) == (who == "admin_a")
    everyone = _client(client, world, who).get(reverse("jobs:list") + "?scope=all")
    assert ("排队的任务" in everyone.content.decode()) == (who in CAN_VIEW), who
    assert mine.pk


def test_job_list_paginates_with_a_constant_query_count(
    client, world, django_assert_max_num_queries
):
    c = _client(client, world, "admin_a")
    for _ in range(3):
        _queued_job(world)
    with django_assert_max_num_queries(12) as few:
        c.get(reverse("jobs:list"))
    for _ in range(60):
        _queued_job(world)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = c.get(reverse("jobs:list")).content.decode()
    assert "第 1/3 页" in html
    assert c.get(reverse("jobs:list") + "?page=3").status_code == 200
