"""Background jobs of the annual statistics (run through :mod:`kepu.core.jobs`): opening
a collection (one report per unit, 60,000 for the national office) and importing
population figures. Both are all-or-nothing and audited by the services they call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kepu.core.importing import DataImportError
from kepu.core.jobs import JobContext, JobFailed
from kepu.core.models import Job
from kepu.statistics import services
from kepu.statistics.models import Catalogue


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


def collection_create_job(ctx: JobContext) -> str:
    """Create the collection and one report per unit; the collection's id is kept in
    the job's parameters so the page can lead there."""
    p: dict[str, Any] = ctx.params
    catalogue = Catalogue.objects.filter(pk=p["catalogue"]).first()  # reference data
    if catalogue is None:
        raise JobFailed("指标目录已不存在, 未创建统计调查。")
    due = dt.date.fromisoformat(p["due_date"]) if p.get("due_date") else None
    ctx.progress(0.01, "读取辖区内的填报单位")
    try:
        collection = services.collection_create(
            user=ctx.user,
            catalogue=catalogue,
            fields=services.CollectionFields(
                title=p.get("title", ""),
                year=int(p["year"]),
                due_date=due,
                jump_threshold=int(p.get("jump_threshold", 50)),
            ),
            office_id=p.get("office"),
            progress=ctx.progress,
        )
    except (ValidationError, PermissionDenied) as exc:
        text = "；".join(_messages(exc)) if isinstance(exc, ValidationError) else str(exc)
        raise JobFailed(f"未创建统计调查: {text}") from exc
    url = reverse("statistics:collection", args=[collection.pk])
    Job.objects.filter(pk=ctx.job.pk).update(
        params={**p, "collection": collection.pk, "result_url": url}
    )
    n = collection.reports.count()
    return f"已创建「{collection.title}」, 为辖区内 {n} 个单位生成报表。"


def population_import_job(ctx: JobContext) -> str:
    """Import the population file the web saved to storage (all rows or none)."""
    from django.core.files.storage import default_storage

    path = ctx.params["path"]
    try:
        ctx.progress(0.02, "读取上传的文件")
        with default_storage.open(path, "rb") as fh:
            data = fh.read()
        try:
            n = services.population_import(
                user=ctx.user, name=ctx.params.get("name", ""), data=data, progress=ctx.progress
            )
        except DataImportError as exc:
            errors = list(exc.errors)
            text = "；".join(errors[:20])
            more = f" (另有 {len(errors) - 20} 处错误)" if len(errors) > 20 else ""
            raise JobFailed(f"导入失败, 未导入任何数据: {text}{more}", "\n".join(errors)) from exc
        except PermissionDenied as exc:
            raise JobFailed(f"导入失败, 未导入任何数据: {exc}") from exc
    finally:
        default_storage.delete(path)
    Job.objects.filter(pk=ctx.job.pk).update(
        params={**ctx.params, "result_url": reverse("statistics:population")}
    )
    return f"已导入 {n} 条人口数据。"
