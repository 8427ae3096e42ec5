"""Survey work in the background: large microdata imports as jobs, estimation runs that a
killed worker cannot block for ever, and cancelling a run."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kepu.core.models import Job, WorkStatus
from kepu.survey import adapter
from kepu.survey.models import EstimationRun, RunStatus
from tests.survey.test_survey_services import csv_bytes, load_wave, make_wave, sample_rows

USERS = ["super", "admin_a", "admin_b", "viewer_a", "staff_a1", "staff_a2", "nobody", "anon"]
CAN_CHANGE_WAVE = {"super", "admin_a"}
CAN_VIEW_WAVE = {"super", "admin_a", "viewer_a"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.KEPU_SURVEY_IMPORT_JOB_BYTES = 1000


def _upload(rows) -> SimpleUploadedFile:
    return SimpleUploadedFile("data.csv", csv_bytes(rows), content_type="text/csv")


def _stored_uploads(tmp_path) -> list:
    folder = tmp_path / "job-uploads"
    return list(folder.iterdir()) if folder.exists() else []


# --- import as a job ---------------------------------------------------------------------
def test_large_import_runs_as_a_job(client, world, tmp_path):
    wave = make_wave(world)
    client.force_login(world.users["admin_a"])
    resp = client.post(
        reverse("survey:import", args=[wave.pk]), {"datafile": _upload(sample_rows(120))}
    )
    job = Job.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.kind == "survey_import" and job.status == WorkStatus.DONE, job.message
    assert job.message.startswith("已导入 120 名受访者的得分")
    assert wave.respondents.count() == 120
    assert _stored_uploads(tmp_path) == []  # the saved upload is removed after the job


def test_small_import_stays_immediate(client, world, settings):
    settings.KEPU_SURVEY_IMPORT_JOB_BYTES = 10 * 1024 * 1024
    wave = make_wave(world)
    client.force_login(world.users["admin_a"])
    resp = client.post(
        reverse("survey:import", args=[wave.pk]), {"datafile": _upload(sample_rows(40))}
    )
    assert resp.status_code == 302 and resp["Location"] == reverse("survey:wave", args=[wave.pk])
    assert not Job.objects.exists() and wave.respondents.count() == 40


def test_import_job_with_row_errors_fails_with_chinese_messages_and_saves_nothing(
    client, world, tmp_path
):
    wave = make_wave(world)
    rows = sample_rows(60)
    rows[3][1] = "999999"  # unknown region code
    client.force_login(world.users["admin_a"])
    client.post(reverse("survey:import", args=[wave.pk]), {"datafile": _upload(rows)})
    job = Job.objects.get()
    assert job.status == WorkStatus.FAILED
    assert job.message.startswith("导入失败: ") and "第4行" in job.message, job.message
    assert wave.respondents.count() == 0 and _stored_uploads(tmp_path) == []


@pytest.mark.parametrize("who", USERS)
def test_large_import_is_scoped(client, world, who):
    wave = make_wave(world)
    if who != "anon":
        client.force_login(world.users[who])
    resp = client.post(
        reverse("survey:import", args=[wave.pk]), {"datafile": _upload(sample_rows(30))}
    )
    if who == "anon":
        assert resp.status_code == 302 and resp["Location"].startswith(reverse("login"))
    elif who in CAN_CHANGE_WAVE:
        assert resp.status_code == 302 and Job.objects.get().status == WorkStatus.DONE
    else:
        assert resp.status_code == (403 if who in CAN_VIEW_WAVE else 404)
        assert not Job.objects.exists()
    assert wave.respondents.count() == (30 if who in CAN_CHANGE_WAVE else 0)


def test_import_job_through_the_database_queue(client, world, settings, tmp_path):
    from tests.core.test_jobs_worker import make_worker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    wave = make_wave(world)
    client.force_login(world.users["admin_a"])
    client.post(reverse("survey:import", args=[wave.pk]), {"datafile": _upload(sample_rows(50))})
    job = Job.objects.get()
    assert job.status == WorkStatus.QUEUED and len(_stored_uploads(tmp_path)) == 1
    assert wave.respondents.count() == 0
    make_worker().run()
    job.refresh_from_db()
    assert job.status == WorkStatus.DONE, job.message
    assert wave.respondents.count() == 50 and _stored_uploads(tmp_path) == []


# --- estimation runs: stale and cancel --------------------------------------------------------
def _killed_run(wave, minutes: int = 30) -> EstimationRun:
    """A run whose worker was killed: left 'running' at 2% with an old heartbeat."""
    old = timezone.now() - dt.timedelta(minutes=minutes)
    return EstimationRun.objects.create(
        wave=wave,
        status=RunStatus.RUNNING,
        progress=2,
        message="读取受访者数据",
        started_at=old,
        heartbeat_at=old,
    )


def test_killed_run_shows_failed_and_a_new_run_can_start(client, world):
    wave = load_wave(world, make_wave(world), n=120)
    dead = _killed_run(wave)
    client.force_login(world.users["admin_a"])
    html = client.get(reverse("survey:run_status", args=[wave.pk, dead.pk])).content.decode()
    assert "失败" in html and "后台进程中断" in html and "hx-get" not in html
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED and dead.finished_at
    resp = client.post(reverse("survey:run_start", args=[wave.pk]))
    assert resp.status_code == 302
    new = wave.runs.order_by("-pk").first()
    assert new.pk != dead.pk and new.status == RunStatus.DONE, new.message


def test_run_start_itself_gives_up_a_dead_run(client, world):
    wave = load_wave(world, make_wave(world), n=120)
    dead = _killed_run(wave)
    client.force_login(world.users["admin_a"])
    client.post(reverse("survey:run_start", args=[wave.pk]))
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED
    assert wave.runs.filter(status=RunStatus.DONE).count() == 1


def test_a_live_run_still_blocks_a_second_one(client, world):
    wave = load_wave(world, make_wave(world), n=120)
    live = _killed_run(wave, minutes=1)
    client.force_login(world.users["admin_a"])
    resp = client.post(reverse("survey:run_start", args=[wave.pk]), follow=True)
    assert "已有正在进行的估计任务" in resp.content.decode()
    live.refresh_from_db()
    assert live.status == RunStatus.RUNNING and wave.runs.count() == 1


@pytest.mark.parametrize("who", USERS)
def test_run_cancel_is_scoped(client, world, who):
    wave = load_wave(world, make_wave(world), n=60)
    run = _killed_run(wave, minutes=1)
    if who != "anon":
        client.force_login(world.users[who])
    resp = client.post(reverse("survey:run_cancel", args=[wave.pk, run.pk]))
    run.refresh_from_db()
    if who == "anon":
        assert resp.status_code == 302 and resp["Location"].startswith(reverse("login"))
        assert run.status == RunStatus.RUNNING
    elif who in CAN_CHANGE_WAVE:
        assert resp.status_code == 302 and run.status == RunStatus.CANCELLED
        assert "取消" in run.message
    else:
        assert resp.status_code == (403 if who in CAN_VIEW_WAVE else 404)
        assert run.status == RunStatus.RUNNING


def test_run_status_offers_cancel_only_to_who_may(client, world):
    wave = load_wave(world, make_wave(world), n=60)
    run = _killed_run(wave, minutes=1)
    url = reverse("survey:run_status", args=[wave.pk, run.pk])
    client.force_login(world.users["admin_a"])
    assert "取消估计" in client.get(url).content.decode()
    client.force_login(world.users["viewer_a"])
    assert "取消估计" not in client.get(url).content.decode()


def test_cancel_during_estimation_stops_the_run_and_stores_nothing(world):
    from kepu.core.jobs import work_cancel
    from kepu.survey import services

    wave = load_wave(world, make_wave(world), n=120)
    real = adapter.estimate

    def estimate_then_cancel(data, *, progress, **kw):
        run = wave.runs.get(status=RunStatus.RUNNING)
        work_cancel(user=world.users["admin_a"], obj=run)  # someone clicks 取消估计
        progress(0.5, "估计中")
        return real(data, progress=progress, **kw)

    with mock.patch.object(adapter, "estimate", side_effect=estimate_then_cancel):
        run = services.run_start(user=world.users["admin_a"], wave=wave)
    assert run.status == RunStatus.CANCELLED and not run.estimates.exists()
    assert "已由 admin_a 取消" in run.message
