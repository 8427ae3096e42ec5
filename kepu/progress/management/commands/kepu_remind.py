from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kepu.progress.reminders import remind


class Command(BaseCommand):
    help = "发送填报截止提醒和待发邮件 (可每隔几分钟运行, 同一提醒只发一次)"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--date", help="按指定日期计算 (YYYY-MM-DD), 默认今天")
        parser.add_argument("--no-email", action="store_true", help="只生成站内通知, 不发邮件")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = (
                dt.date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
            )
        except ValueError as exc:
            raise CommandError("日期格式应为 YYYY-MM-DD。") from exc
        from kepu.campaigns.reminders import remind_campaigns

        # Campaign reminders first, so their e-mails go out in the same run.
        campaign_created = remind_campaigns(today=today)
        result = remind(today=today, send_email=not options["no_email"])
        result.created += campaign_created
        self.stdout.write(f"新提醒 {result.created} 条, 发送邮件 {result.emailed} 封。")
