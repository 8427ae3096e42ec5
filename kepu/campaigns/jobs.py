"""Background jobs of the campaigns area (run through :mod:`kepu.core.jobs`)."""

from __future__ import annotations

import tempfile

from kepu.campaigns import excel, selectors
from kepu.campaigns.models import Campaign
from kepu.core.jobs import JobContext, JobFailed


def summary_export(ctx: JobContext) -> str:
    """The summary table of the activities the job's user sees (with the saved filters)."""
    campaign = (
        selectors.campaign_list(user=ctx.user)
        .filter(pk=int(ctx.params.get("campaign") or 0))
        .first()
    )
    if campaign is None:
        raise JobFailed("活动不存在或不在您的范围内。")
    assert isinstance(campaign, Campaign)
    filters = selectors.ActivityFilters(**ctx.params.get("filters", {}))
    qs = selectors.activity_list(user=ctx.user, campaign=campaign, filters=filters)
    total = qs.count()
    ctx.progress(0.01, f"共 {total} 场活动, 开始写入")

    def report(rows: int) -> None:
        ctx.progress(0.02 + 0.9 * rows / max(total, 1), f"已写入 {rows}/{total} 场活动")

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        excel.summary_xlsx(
            campaign=campaign,
            activities=qs,
            title_suffix=filters.region_code,
            out=tmp.name,
            progress=report,
        )
        ctx.progress(0.95, "保存文件")
        with open(tmp.name, "rb") as fh:
            ctx.save_result("summary.xlsx", fh, display_name=f"{campaign.title}汇总表.xlsx")
    return f"完成: 导出 {total} 场活动"
