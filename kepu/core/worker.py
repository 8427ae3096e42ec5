"""The background worker and its supervisor (``kepu worker``).

django-tasks-db's ``db_worker`` has two habits that made jobs hang for ever: under DEBUG
it runs inside Django's auto-reloader, whose parent process stays alive when the worker
thread dies; and it retries "database is locked" for ever.  Here:

- :class:`KepuWorker` runs the same queue (claim → run → record) without a reloader,
  gives up stale work (:func:`kepu.core.jobs.reap_stale`) every ``reap_every`` seconds,
  and raises :class:`FatalWorkerError` when the database stays locked longer than
  ``locked_limit`` seconds or any other database error reaches the loop (a lost
  connection), so the process exits non-zero instead of idling;
- :mod:`kepu.core.supervisor` runs it as a child process and restarts it when it exits
  non-zero.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import DatabaseError, close_old_connections, connections
from django.db.utils import OperationalError
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

logger = logging.getLogger("kepu.worker")

EXIT_FATAL = 3


def _refresh_connections() -> None:
    """Drop broken or expired connections between tasks, as a request would.

    Never inside a transaction: a worker loop run in-process (tests) sits in the caller's
    transaction, which closing the connection would break."""
    if not any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        close_old_connections()


class FatalWorkerError(RuntimeError):
    """The worker cannot go on (database gone or locked for too long): exit and restart."""


class KepuWorker(Worker):
    """django-tasks-db's worker loop, without the reloader, with stale reaping and fatal exits."""

    def __init__(self, *, locked_limit: float = 60.0, reap_every: float = 30.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.locked_limit = locked_limit
        self.reap_every = reap_every
        self._locked_since: float | None = None
        self._last_reap = float("-inf")

    def _locked(self, exc: OperationalError) -> None:
        now = time.monotonic()
        if self._locked_since is None:
            self._locked_since = now
        if now - self._locked_since >= self.locked_limit:
            raise FatalWorkerError(
                f"database locked for more than {self.locked_limit:.0f}s: {exc}"
            ) from exc
        logger.warning("database is locked, retrying: %s", exc)

    def _reap(self) -> None:
        from kepu.core.jobs import reap_stale

        if time.monotonic() - self._last_reap < self.reap_every:
            return
        given_up = reap_stale()
        self._last_reap = time.monotonic()
        if given_up:
            logger.warning("gave up %d stale background job(s)", given_up)

    def _claim(self) -> DBTaskResult | None:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(self.worker_id)
        return task_result

    def step(self) -> bool | None:
        """One turn of the loop: reap, claim, run.  True: ran a task; False: queue empty;
        None: database locked (retry).  Raises :class:`FatalWorkerError`."""
        _refresh_connections()
        try:
            self._reap()
            task_result = self._claim()
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                self._locked(exc)
                return None
            raise FatalWorkerError(f"database error: {exc}") from exc
        except DatabaseError as exc:
            raise FatalWorkerError(f"database error: {exc}") from exc
        self._locked_since = None
        if task_result is None:
            return False
        try:
            # Task errors are recorded by run_task; what escapes it is a failure to record
            # the result (the database is gone): fatal.
            self.run_task(task_result)
        except DatabaseError as exc:
            raise FatalWorkerError(f"could not record a task result: {exc}") from exc
        return True

    def run(self) -> None:
        logger.info("kepu worker %s started (queues: %s)", self.worker_id, self.queue_names)
        while self.running:
            ran = self.step()
            if self.batch and ran is False:
                logger.info("queue empty, batch worker exits")
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            _refresh_connections()
            if self.running and not ran:
                time.sleep(self.interval)
