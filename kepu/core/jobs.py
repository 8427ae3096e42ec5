"""Background work that never gets stuck: generic jobs, heartbeats, stale detection, cancel.

Two kinds of rows track background work: :class:`kepu.core.models.Job` (generic jobs such
as large exports and imports) and ``survey.EstimationRun``.  Both carry the same fields
(``status``, ``progress``, ``message``, ``started_at``, ``heartbeat_at``, ``finished_at``,
``task_id``) and share the code here:

- :class:`Tracker` moves a row through queued → running → done/failed/cancelled with
  conditional updates, writes progress and beats the heartbeat; ``progress()`` raises
  :class:`Cancelled` as soon as the row is no longer running (cancelled by a user, or
  given up as stale), so the work stops instead of overwriting that state.
- :func:`run_tracked` runs a body under a tracker with a heartbeat thread: a job beats
  while it runs even through long steps that report no progress.
- :func:`reap_stale` marks running rows whose heartbeat is older than
  ``KEPU_JOB_STALE_SECONDS`` as failed ("后台进程中断 …"), and queued rows whose queue entry
  has already finished or vanished.  It runs when a status is read and in the worker
  loop, so a killed worker never blocks new runs for ever.
- :func:`work_cancel` cancels a queued or running row (the running body stops at its next
  progress report).

Other code starts a job with :func:`job_start` and writes the job function as
``def func(ctx: JobContext) -> str | None``: ``ctx.params`` are the JSON parameters,
``ctx.progress(fraction, message)`` reports, ``ctx.save_result(name, file)`` stores the
result file, and the returned text becomes the final message.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from typing import Any, TypeVar

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import OperationalError, connection, connections, models, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from kepu.core.models import ACTIVE_STATUSES, Job, WorkStatus
from kepu.core.types import UserLike, as_account
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, user_grants

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Every model whose rows track background work (same field names, same statuses).
TRACKED_MODELS = ["core.Job", "survey.EstimationRun"]

STALE_REASON = "后台进程中断 (超过 {minutes} 分钟没有心跳), 任务已终止, 请重新发起。"
LOST_REASON = "后台任务未能执行 (队列中的任务已结束或丢失), 请重新发起。"
CANCELLED_MESSAGE = "已由 {name} 取消。"


class Cancelled(Exception):
    """The row is no longer running (cancelled or given up): stop the work."""


class JobFailed(Exception):
    """Raised by a job function to fail with a clear Chinese message (no traceback)."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details


def stale_seconds() -> int:
    return int(getattr(settings, "KEPU_JOB_STALE_SECONDS", 600))


def heartbeat_seconds() -> float:
    return float(getattr(settings, "KEPU_JOB_HEARTBEAT_SECONDS", 30))


def _models() -> list[type[models.Model]]:
    return [apps.get_model(label) for label in TRACKED_MODELS]


# --- one row's life -------------------------------------------------------------------
@dataclass
class Tracker:
    """Moves one tracked row through its states; every update is conditional."""

    model: type[models.Model]
    pk: int
    # Transaction depth when the work started: progress reported from inside a deeper
    # transaction (e.g. an import's bulk save) is not written, so the row is never locked
    # by, or hidden inside, the work's own transaction.
    base_depth: int = 0

    def _rows(self, *statuses: str) -> models.QuerySet:
        return self.model._default_manager.filter(pk=self.pk, status__in=statuses)

    def start(self, message: str = "开始执行") -> bool:
        """queued → running; False when the row is no longer queued (e.g. cancelled)."""
        self.base_depth = len(connection.atomic_blocks)
        now = timezone.now()
        return bool(
            self._rows(WorkStatus.QUEUED).update(
                status=WorkStatus.RUNNING,
                started_at=now,
                heartbeat_at=now,
                progress=0,
                message=message[:500],
            )
        )

    def beat(self) -> bool:
        return bool(self._rows(WorkStatus.RUNNING).update(heartbeat_at=timezone.now()))

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress (0..1) and beat; raise :class:`Cancelled` if no longer running.

        Skipped inside a transaction the work opened (see ``base_depth``)."""
        if len(connection.atomic_blocks) > self.base_depth:
            return
        percent = max(0, min(100, round(float(fraction) * 100)))
        fields: dict[str, Any] = {"progress": percent, "heartbeat_at": timezone.now()}
        if message:
            fields["message"] = message[:500]
        if not self._rows(WorkStatus.RUNNING).update(**fields):
            raise Cancelled(self.state_message())

    def check(self) -> None:
        """Raise :class:`Cancelled` if the row is no longer running (beats too)."""
        if not self.beat():
            raise Cancelled(self.state_message())

    def state_message(self) -> str:
        row = self.model._default_manager.filter(pk=self.pk).values("status", "message").first()
        return row["message"] if row else "任务已删除"

    def finish(self, message: str = "完成", **fields: Any) -> bool:
        return bool(
            self._rows(WorkStatus.RUNNING).update(
                status=WorkStatus.DONE,
                progress=100,
                message=message[:500],
                finished_at=timezone.now(),
                **fields,
            )
        )

    def fail(self, message: str, **fields: Any) -> bool:
        return bool(
            self._rows(WorkStatus.QUEUED, WorkStatus.RUNNING).update(
                status=WorkStatus.FAILED,
                progress=100,
                message=message[:500],
                finished_at=timezone.now(),
                **fields,
            )
        )


@contextmanager
def heartbeat(tracker: Tracker) -> Iterator[None]:
    """Beat in a thread while the body runs, so long silent steps are not taken as dead.

    Not started inside an atomic block (the Immediate backend under a request or a test):
    there the work cannot outlive the process that reads its status.
    """
    interval = heartbeat_seconds()
    if interval <= 0 or connection.in_atomic_block:
        yield
        return
    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.wait(interval):
                try:
                    tracker.beat()
                except Exception:  # a locked database must not kill the beat
                    logger.warning("heartbeat of %s #%s failed", tracker.model, tracker.pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=loop, name=f"heartbeat-{tracker.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


def run_tracked(
    tracker: Tracker,
    body: Callable[[], T],
    *,
    failure_fields: Callable[[str], dict[str, Any]] | None = None,
) -> T | None:
    """Run ``body`` for a queued row: start, beat, and record failure; never leave it running.

    ``body`` finishes the row itself (``tracker.finish``).  An exception marks the row
    failed with a Chinese message; :class:`Cancelled` leaves the row as it is.
    """
    if not tracker.start():
        return None  # cancelled (or reaped) before a worker reached it
    try:
        with heartbeat(tracker):
            return body()
    except Cancelled:
        logger.info("%s #%s stopped: %s", tracker.model.__name__, tracker.pk, "cancelled")
        return None
    except JobFailed as exc:
        extra = failure_fields(exc.details) if failure_fields and exc.details else {}
        tracker.fail(exc.message, **extra)
        return None
    except Exception as exc:
        logger.error(
            "%s #%s failed\n%s", tracker.model.__name__, tracker.pk, traceback.format_exc()
        )
        message = f"执行出错: {exc.__class__.__name__}: {exc}"
        extra = failure_fields(traceback.format_exc()) if failure_fields else {}
        tracker.fail(message, **extra)
        return None


# --- stale detection ------------------------------------------------------------------
def _mark_queue_entries_failed(task_ids: list[str], reason: str) -> None:
    from django_tasks_db.models import DBTaskResult

    ids = [t for t in task_ids if t]
    if not ids:
        return
    DBTaskResult.objects.filter(id__in=ids, status="RUNNING").update(
        status="FAILED",
        finished_at=timezone.now(),
        exception_class_path="kepu.core.jobs.Stale",
        traceback=reason,
    )


def reap_stale(*, model: type[models.Model] | None = None, now: dt.datetime | None = None) -> int:
    """Fail running rows whose heartbeat stopped and queued rows whose queue entry is gone.

    Returns how many rows were given up.  Cheap (indexed, bounded), so it runs whenever
    a status is read.
    """
    now = now or timezone.now()
    seconds = stale_seconds()
    cutoff = now - dt.timedelta(seconds=seconds)
    reason = STALE_REASON.format(minutes=max(1, round(seconds / 60)))
    total = 0
    for m in [model] if model is not None else _models():
        manager = m._default_manager
        stale = (
            Q(heartbeat_at__lt=cutoff)
            | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
            | Q(heartbeat_at__isnull=True, started_at__isnull=True, created_at__lt=cutoff)
        )
        dead = manager.filter(stale, status=WorkStatus.RUNNING)
        # A plain read first: the common case (nothing stale) takes no write lock.
        rows = list(dead.values_list("pk", "task_id")[:500])
        if rows:
            with transaction.atomic():
                again = manager.filter(
                    stale, status=WorkStatus.RUNNING, pk__in=[r[0] for r in rows]
                )
                if connection.features.has_select_for_update_skip_locked:
                    # a row locked by a live transaction is not dead: never wait for it
                    again = again.select_for_update(skip_locked=True)
                ids = list(again.values_list("pk", flat=True))
                fields: dict[str, Any] = {"error": reason} if m is Job else {}
                total += manager.filter(stale, pk__in=ids, status=WorkStatus.RUNNING).update(
                    status=WorkStatus.FAILED, message=reason, finished_at=now, **fields
                )
            _mark_queue_entries_failed([t for pk, t in rows if pk in set(ids)], reason)
        total += _reap_lost(m, cutoff, now)
    return total


def reap_stale_quietly(*, model: type[models.Model] | None = None) -> int:
    """:func:`reap_stale` for pages that read a status: a busy database skips it."""
    try:
        return reap_stale(model=model)
    except OperationalError:
        logger.warning("stale job check skipped (database busy)", exc_info=True)
        return 0


def _reap_lost(m: type[models.Model], cutoff: dt.datetime, now: dt.datetime) -> int:
    """Queued rows (older than the threshold) whose queue entry is finished or missing."""
    from django_tasks_db.models import DBTaskResult

    manager = m._default_manager
    queued = list(
        manager.filter(status=WorkStatus.QUEUED, created_at__lt=cutoff)
        .exclude(task_id="")
        .values_list("pk", "task_id")[:500]
    )
    if not queued:
        return 0
    waiting = {
        str(i)
        for i in DBTaskResult.objects.filter(
            id__in=[t for _, t in queued], status__in=["READY", "RUNNING"]
        ).values_list("id", flat=True)
    }
    lost = [pk for pk, t in queued if t not in waiting]
    if not lost:
        return 0
    fields: dict[str, Any] = {"error": LOST_REASON} if m is Job else {}
    return manager.filter(pk__in=lost, status=WorkStatus.QUEUED).update(
        status=WorkStatus.FAILED, message=LOST_REASON, finished_at=now, **fields
    )


# --- cancel ---------------------------------------------------------------------------
def work_cancel(*, user: UserLike, obj: models.Model) -> bool:
    """Cancel a queued or running row (the caller has checked the user may).

    Saved through the model so the audit log records who cancelled.  Returns False
    when the work had already ended.
    """
    model = type(obj)
    with transaction.atomic():
        row: Any = model._default_manager.select_for_update().filter(pk=obj.pk).first()
        if row is None or row.status not in ACTIVE_STATUSES:
            return False
        row.status = WorkStatus.CANCELLED
        account = as_account(user)
        name = (account.get_full_name() or account.get_username()) if account else "系统"
        row.message = CANCELLED_MESSAGE.format(name=name)[:500]
        row.finished_at = timezone.now()
        row.save(update_fields=["status", "message", "finished_at"])
    _mark_queue_entries_failed([row.task_id], row.message)
    for field in ("status", "message", "finished_at"):
        setattr(obj, field, getattr(row, field))
    return True


# --- generic jobs ---------------------------------------------------------------------
JOB_FUNCS: dict[str, str] = {}


def register(name: str, path: str) -> None:
    """Name a job function (``"plans.ledger_export"`` → ``"kepu.plans.jobs.ledger_export"``)."""
    JOB_FUNCS[name] = path


def _resolve(func: str) -> Callable[[JobContext], str | None]:
    path = JOB_FUNCS.get(func, func)
    module, _, attr = path.rpartition(".")
    allowed = tuple(getattr(settings, "KEPU_JOB_MODULES", ("kepu.",)))
    if not module.startswith(allowed):
        raise ValueError(f"job function outside {allowed}: {path}")
    return getattr(import_module(module), attr)


class JobContext:
    """What a job function gets: its job, parameters, progress and result storage."""

    def __init__(self, job: Job, tracker: Tracker) -> None:
        self.job = job
        self.tracker = tracker

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    @property
    def user(self) -> Any:
        return self.job.created_by

    def progress(self, fraction: float, message: str = "") -> None:
        """Report 0..1 progress with a Chinese message; raises :class:`Cancelled`."""
        self.tracker.progress(fraction, message)

    def check(self) -> None:
        self.tracker.check()

    def save_result(self, filename: str, content: File | Any, *, display_name: str = "") -> None:
        """Store the result file (a django ``File`` or an open binary file)."""
        if not isinstance(content, File):
            content = File(content)
        self.job.result.save(filename, content, save=False)
        Job.objects.filter(pk=self.job.pk).update(
            result=self.job.result.name, result_name=(display_name or filename)[:200]
        )


@task()
def run_job(job_id: int) -> dict[str, Any]:
    """The django-tasks entry point of every generic job."""
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        return {"job": job_id, "status": "missing"}
    tracker = Tracker(Job, job_id)

    def body() -> None:
        func = _resolve(job.func)
        message = func(JobContext(job, tracker))
        tracker.finish(message or "完成")

    run_tracked(tracker, body, failure_fields=lambda tb: {"error": tb[-5000:]})
    status = Job.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return {"job": job_id, "status": status}


def job_organisation(user: UserLike) -> Organisation | None:
    """The organisation a user's jobs belong to: an office first, else the first membership."""
    grants = user_grants(user)
    if not grants:
        return None
    grant = next((g for g in grants if g.region_path is not None), grants[0])
    return Organisation.objects.filter(pk=grant.organisation_id).first()


def job_start(
    *,
    user: UserLike,
    kind: str,
    organisation: Organisation | None,
    func: str,
    params: dict[str, Any] | None = None,
    title: str = "",
) -> Job:
    """Create a job row and queue it; return the row (already finished under Immediate)."""
    allowed = {g.organisation_id for g in user_grants(user) if Action.VIEW in g.actions}
    if organisation is None:
        if not user.is_superuser:
            raise PermissionDenied("后台任务必须属于您所在的组织。")
    elif not user.is_superuser and organisation.pk not in allowed:
        raise PermissionDenied("您不能以该组织的名义发起后台任务。")
    _resolve(func)  # fail now, not in the worker, on a bad name
    job = Job.objects.create(
        kind=kind[:40],
        title=title[:200],
        created_by=as_account(user) if getattr(user, "is_authenticated", False) else None,
        organisation=organisation,
        func=func,
        params=params or {},
        message="排队等待后台任务执行",
    )
    result = run_job.enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))
    job.refresh_from_db()
    return job


def job_cancel(*, user: UserLike, job: Job) -> bool:
    """Cancel a job the user may act on (checked by the caller through the gate)."""
    return work_cancel(user=user, obj=job)
