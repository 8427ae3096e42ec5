"""Background jobs of progress reporting (run through :mod:`kepu.core.jobs`): a large
round's Excel ledger and Word report, with progress, as a file to download."""

from __future__ import annotations

import datetime as dt
import io
import tempfile

from django.core.exceptions import ValidationError

from kepu.core.jobs import JobContext, JobFailed
from kepu.progress import exports, selectors
from kepu.progress.models import ReportingRound


def _round(ctx: JobContext) -> ReportingRound:
    round_ = (
        selectors.round_list(user=ctx.user)
        .select_related("office__region")
        .filter(pk=int(ctx.params.get("round") or 0))
        .first()
    )
    if round_ is None:
        raise JobFailed("填报轮次不存在或不在您的范围内。")
    return round_


def _today(ctx: JobContext) -> dt.date:
    return dt.date.fromisoformat(ctx.params["today"])


def round_ledger_export(ctx: JobContext) -> str:
    """The round's Excel ledger as the job's user sees it (streamed, memory bounded)."""
    round_ = _round(ctx)
    ctx.progress(0.01, "开始写入进展台账")
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        written = exports.round_ledger_write(
            user=ctx.user, round_=round_, today=_today(ctx), out=tmp.name, progress=ctx.progress
        )
        ctx.progress(0.97, "保存文件")
        with open(tmp.name, "rb") as fh:
            ctx.save_result("ledger.xlsx", fh, display_name=f"{round_.title}进展台账.xlsx")
    return f"完成: 导出 {written} 项任务"


def round_report_export(ctx: JobContext) -> str:
    """The round's Word progress report (公文 layout) as the job's user sees it."""
    round_ = _round(ctx)
    ctx.progress(0.01, "开始汇总进展报告")
    try:
        data = exports.round_report_docx(
            user=ctx.user, round_=round_, today=_today(ctx), progress=ctx.progress
        )
    except ValidationError as exc:
        raise JobFailed(exc.messages[0]) from exc
    ctx.save_result(
        "report.docx", io.BytesIO(data), display_name=f"{round_.title}进展情况报告.docx"
    )
    return "完成: 已生成进展报告"
