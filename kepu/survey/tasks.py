"""Background estimation of a survey wave (django-tasks).

``estimate_wave`` reads the wave's microdata and margins, calls the pure engine through
:mod:`kepu.survey.adapter`, and stores every cell with the configuration used.  Progress
is written to the run row in small committed updates so the page can poll it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from django.db import transaction
from django_tasks import task

from kepu.core.jobs import Cancelled, JobContext, JobFailed, Tracker, run_tracked
from kepu.regions.models import Region
from kepu.survey import adapter
from kepu.survey.models import (
    BREAKDOWN_CHOICES,
    BREAKDOWNS,
    Estimate,
    EstimationRun,
    Measure,
    Respondent,
    RunStatus,
)

logger = logging.getLogger(__name__)

BY_VARIABLES = [name for name, _, _ in BREAKDOWNS]


def load_columns(wave_id: int) -> dict[str, np.ndarray]:
    """The wave's microdata as column arrays (strings for categories, floats for numbers)."""
    rows = list(
        Respondent.objects.filter(wave_id=wave_id)
        .order_by("row_number")
        .values_list(
            "subregion__code",
            "urban_rural",
            "sex",
            "age_band",
            "education",
            "key_group",
            "stratum",
            "psu",
            "weight",
            "score",
            "literate",
        )
    )
    if not rows:
        return {}
    cols = list(zip(*rows, strict=True))
    names = [*BY_VARIABLES, "stratum", "psu"]
    data = {
        name: np.array([v or "" for v in cols[i]], dtype=object) for i, name in enumerate(names)
    }
    data["weight"] = np.asarray(cols[8], dtype=float)
    data["score"] = np.asarray(cols[9], dtype=float)
    data["literate"] = np.asarray(cols[10], dtype=float)
    return data


def category_labels(wave_region: Region) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {
        var: dict(choices.choices) for var, choices in BREAKDOWN_CHOICES.items()
    }
    labels["subregion"] = dict(wave_region.children.values_list("code", "name"))
    return labels


def _category_order(variable: str, labels: dict[str, str]) -> list[str]:
    return sorted(labels) if variable == "subregion" else list(labels)


def _flag(cell: adapter.Cell, measure: str, min_n: int, max_rse: float) -> str:
    reasons = []
    if cell.n < min_n:
        reasons.append(f"样本量不足 (n={cell.n} < {min_n})")
    if cell.estimate is not None and cell.se is not None and cell.estimate > 0:
        rse = cell.se / cell.estimate
        if rse > max_rse:
            reasons.append(f"相对标准误 {rse:.1%} > {max_rse:.0%}")
    elif measure == Measure.RATE and cell.estimate == 0:
        reasons.append("估计值为0, 相对标准误无法计算")
    return "; ".join(reasons)


@task()
def estimate_wave(run_id: int) -> dict[str, Any]:
    """Estimate a wave: overall and by every breakdown, rate and mean score.

    Runs under a :class:`kepu.core.jobs.Tracker`: it beats while it runs, stops when the
    run is cancelled, and a failure (or a killed worker, found later by
    :func:`kepu.core.jobs.reap_stale`) never leaves the run spinning.
    """
    tracker = Tracker(EstimationRun, run_id)
    count = run_tracked(tracker, lambda: _estimate(tracker, run_id), failure_fields=None)
    return {"run": run_id, "estimates": count or 0}


def _estimate(tracker: Tracker, run_id: int) -> int:
    run = EstimationRun.objects.select_related("wave__region").get(pk=run_id)
    wave = run.wave
    tracker.progress(0.02, "读取受访者数据")
    try:
        data = load_columns(wave.pk)
        if not data:
            raise adapter.EstimationError("本调查没有受访者数据。")
        margins: dict[str, dict[str, float]] = {}
        if run.rake:
            for m in wave.margins.all():
                margins.setdefault(m.variable, {})[m.category] = m.population
        labels = category_labels(wave.region)

        def report(fraction: float, message: str) -> None:
            tracker.progress(0.05 + 0.85 * fraction, message)

        output = adapter.estimate(
            data,
            margins=margins or None,
            by=BY_VARIABLES,
            progress=report,
        )
    except adapter.EstimationError as exc:
        tracker.fail(str(exc))
        return 0
    tracker.progress(0.92, "保存估计结果")
    estimates: list[Estimate] = []
    for measure in (Measure.RATE, Measure.MEAN):
        overall = output.cells.get((measure, "overall", ""))
        if overall is not None:
            estimates.append(
                _estimate_row(run, measure, "overall", "", wave.region.name, 0, overall)
            )
        for variable in BY_VARIABLES:
            for order, category in enumerate(_category_order(variable, labels[variable]), start=1):
                cell = output.cells.get((measure, variable, category))
                if cell is None:
                    continue
                estimates.append(
                    _estimate_row(
                        run, measure, variable, category, labels[variable][category], order, cell
                    )
                )
    with transaction.atomic():
        # Lock the run: a cancel that came in meanwhile wins, and then nothing is stored.
        locked = EstimationRun.objects.select_for_update().filter(pk=run_id).first()
        if locked is None or locked.status != RunStatus.RUNNING:
            raise Cancelled(locked.message if locked else "估计任务已删除")
        run.estimates.all().delete()
        Estimate.objects.bulk_create(estimates, batch_size=500)
        tracker.finish(
            f"完成: {len(estimates)} 个估计值",
            engine_version=output.engine_version,
            convergence=output.convergence,
            n_respondents=len(data["weight"]),
            config={
                "by": BY_VARIABLES,
                "margins": margins,
                "raked": bool(margins),
                "min_n": wave.min_n,
                "max_rse": wave.max_rse,
                "threshold": adapter.literacy_threshold(wave.scoring),
                "data_version": run.data_version,
                "data_source": wave.data_source_name,
                "design": output.design,
                "engine_version": output.engine_version,
            },
        )
    return len(estimates)


def _estimate_row(
    run: EstimationRun,
    measure: str,
    variable: str,
    category: str,
    label: str,
    order: int,
    cell: adapter.Cell,
) -> Estimate:
    reason = _flag(cell, measure, run.wave.min_n, run.wave.max_rse)
    return Estimate(
        run=run,
        measure=measure,
        variable=variable,
        category=category,
        label=label[:100],
        order=order,
        estimate=cell.estimate,
        se=cell.se,
        ci_low=cell.ci_low,
        ci_high=cell.ci_high,
        ci_logit_low=cell.ci_logit_low,
        ci_logit_high=cell.ci_logit_high,
        deff=cell.deff,
        n=cell.n,
        weighted_n=cell.weighted_n,
        flagged=bool(reason),
        flag_reason=reason[:200],
    )


# --- microdata import as a background job (kepu.core.jobs) -----------------------------
def respondents_import_job(ctx: JobContext) -> str:
    """Import a wave's microdata from an upload the web saved to storage.

    Calls the one import entry point, ``services.respondents_import``; passes a progress
    callback only when that function takes one.  The stored upload is deleted afterwards.
    """
    import inspect

    from django.core.files.storage import default_storage

    from kepu.survey import services
    from kepu.survey.models import Wave

    path = ctx.params["path"]
    try:
        wave = Wave.objects.get(pk=ctx.params["wave"])
        ctx.progress(0.02, "读取上传的文件")
        with default_storage.open(path, "rb") as fh:
            data = fh.read()
        kwargs: dict[str, Any] = {}
        if "progress" in inspect.signature(services.respondents_import).parameters:
            kwargs["progress"] = lambda fraction, message="": ctx.progress(
                0.05 + 0.9 * fraction, message
            )
        ctx.progress(0.05, "校验并导入受访者数据")
        try:
            summary = services.respondents_import(
                user=ctx.user, wave=wave, name=ctx.params["name"], data=data, **kwargs
            )
        except services.SurveyImportError as exc:
            errors = list(exc.errors)
            text = "；".join(errors[:20])
            more = f" (另有 {len(errors) - 20} 处错误)" if len(errors) > 20 else ""
            raise JobFailed(f"导入失败: {text}{more}", "\n".join(errors)) from exc
    finally:
        default_storage.delete(path)
    mode = "作答 (已按计分规则计分)" if summary.mode == "answers" else "得分"
    return f"已导入 {summary.rows} 名受访者的{mode}, 覆盖 {summary.subregions} 个下级区域。"
