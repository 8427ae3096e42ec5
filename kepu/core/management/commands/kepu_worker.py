"""``kepu manage kepu_worker``: the background worker (run it through ``kepu worker``)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string

from kepu.core.worker import EXIT_FATAL, FatalWorkerError, KepuWorker


class Command(BaseCommand):
    help = "运行后台任务进程 (无自动重载; 数据库致命错误时退出, 由 kepu worker 重启)"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--queue-name", default="default", help="队列, 逗号分隔, * 为全部")
        parser.add_argument("--interval", type=float, default=1.0, help="空闲时轮询间隔 (秒)")
        parser.add_argument("--batch", action="store_true", help="处理完队列后退出")
        parser.add_argument("--max-tasks", type=int, default=None, help="执行这么多任务后退出")
        parser.add_argument(
            "--locked-limit", type=float, default=60.0, help="数据库持续锁定多少秒视为致命错误"
        )
        parser.add_argument(
            "--reap-every", type=float, default=30.0, help="每隔多少秒检查中断的任务"
        )
        parser.add_argument("--worker-id", default="", help="进程编号 (默认随机)")

    def handle(self, *args: Any, **options: Any) -> None:
        # The root logger (settings.LOGGING) prints; here only the levels are chosen.
        for name in ("kepu.worker", "django_tasks", "django_tasks_db", "kepu.core.jobs"):
            logging.getLogger(name).setLevel(
                logging.INFO if options["verbosity"] else logging.WARNING
            )
        worker = KepuWorker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=False,
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"] or get_random_string(32),
            excluded_queue_names=[],
            locked_limit=options["locked_limit"],
            reap_every=options["reap_every"],
        )
        worker.configure_signals()
        try:
            worker.run()
        except FatalWorkerError as exc:
            self.stderr.write(f"后台任务进程遇到致命错误, 退出以便重启: {exc}")
            sys.exit(EXIT_FATAL)
        finally:
            worker.reset_signals()
