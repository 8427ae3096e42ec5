"""Background jobs of the plans area (run through :mod:`kepu.core.jobs`)."""

from __future__ import annotations

import tempfile

from kepu.core.jobs import JobContext
from kepu.plans import excel, selectors


def ledger_export(ctx: JobContext) -> str:
    """Export the ledger the job's user sees (with the saved filters) as an xlsx file."""
    filters = selectors.LedgerFilters(**ctx.params.get("filters", {}))
    title = ctx.params.get("title") or "任务台账"
    tasks = selectors.task_ledger(user=ctx.user, filters=filters)
    total = tasks.count()
    ctx.progress(0.01, f"共 {total} 条任务, 开始写入")

    def report(rows: int) -> None:
        ctx.progress(0.02 + 0.9 * rows / max(total, 1), f"已写入 {rows}/{total} 条任务")

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        written = excel.ledger_workbook_stream(
            title=title, tasks=tasks.iterator(chunk_size=500), out=tmp.name, progress=report
        )
        ctx.progress(0.95, "保存文件")
        with open(tmp.name, "rb") as fh:
            ctx.save_result("ledger.xlsx", fh, display_name=f"{title}.xlsx")
    return f"完成: 导出 {written} 条任务"
