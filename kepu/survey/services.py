"""Writes for literacy monitoring: waves, targets, microdata import, margins, runs.

Every write checks the scope (``ensure_in_scope`` / ``save_in_scope``).  Imports of
microdata and margins live in :mod:`kepu.survey.importing` (all-or-nothing: rows are
checked first, and any error raises :class:`SurveyImportError` with Chinese row messages
before anything is written); this module keeps their public entries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from kepu.core.importing import MAX_REPORTED_ERRORS, DataImportError
from kepu.core.types import UserLike
from kepu.core.versioning import version_check
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, ensure_in_scope, save_in_scope
from kepu.orgs.selectors import acting_office
from kepu.plans.models import Target
from kepu.regions.models import Region
from kepu.survey import adapter, importing
from kepu.survey.importing import (
    DATA_COLUMNS,
    DATA_COLUMNS_ZH,
    HEADER_ALIASES,
    MARGIN_VARIABLES,
    ImportSummary,
    category_hint,
    margins_import,
    margins_replace,
    margins_set,
    normalise_category,
)
from kepu.survey.models import (
    EstimationRun,
    RunStatus,
    Wave,
    WaveKind,
    WaveTarget,
)

# The one import-error class of the project (kepu.core.importing), under its old name.
SurveyImportError = DataImportError

__all__ = [
    "DATA_COLUMNS",
    "DATA_COLUMNS_ZH",
    "HEADER_ALIASES",
    "MARGIN_VARIABLES",
    "MAX_REPORTED_ERRORS",
    "ImportSummary",
    "SurveyImportError",
    "category_hint",
    "margins_import",
    "margins_replace",
    "margins_set",
    "normalise_category",
    "respondents_import",
]


# --- waves ----------------------------------------------------------------------------------
def office_for_survey(user: UserLike, owner_id: int | None = None) -> Organisation:
    """The office on whose behalf ``user`` creates a wave."""
    return acting_office(
        user=user,
        owner_id=owner_id,
        denied="只有办公室(科协、纲要办)管理员可以管理素质监测调查。",
    )


def _check_configs(questionnaire: dict[str, Any], scoring: dict[str, Any]) -> None:
    errors = adapter.validate_configuration(questionnaire, scoring)
    if errors:
        raise ValidationError(errors)


@dataclass
class WaveFields:
    title: str
    kind: str = WaveKind.LOCAL
    year: int = 2026
    region: Region | None = None  # default: the owner's region
    questionnaire: dict[str, Any] | None = None
    scoring: dict[str, Any] | None = None
    min_n: int = 30
    max_rse: float = 0.30
    notes: str = ""
    ci_method: str = "logit"


def wave_create(*, user: UserLike, owner: Organisation, fields: WaveFields) -> Wave:
    questionnaire = fields.questionnaire or adapter.default_questionnaire()
    scoring = fields.scoring or adapter.default_scoring()
    _check_configs(questionnaire, scoring)
    wave = Wave(
        title=fields.title.strip()[:200] or f"{fields.year}年公民科学素质调查",
        kind=WaveKind(fields.kind),
        year=fields.year,
        region=fields.region or owner.region,
        owner=owner,
        questionnaire=questionnaire,
        scoring=scoring,
        min_n=fields.min_n,
        max_rse=fields.max_rse,
        notes=fields.notes,
        ci_method=fields.ci_method,
        created_by=user if user.is_authenticated else None,
    )
    wave.full_clean(exclude=["created_by"])
    return save_in_scope(user, wave, Action.ADD)


WAVE_EDIT_FIELDS = ["title", "kind", "year", "region", "min_n", "max_rse", "ci_method", "notes"]


def wave_update(
    *, user: UserLike, wave: Wave, fields: WaveFields, version: int | None = None
) -> Wave:
    ensure_in_scope(user, wave, Action.CHANGE)
    questionnaire = fields.questionnaire or wave.questionnaire
    scoring = fields.scoring or wave.scoring
    _check_configs(questionnaire, scoring)
    config_changed = questionnaire != wave.questionnaire or scoring != wave.scoring
    if config_changed and wave.data_mode == "answers" and wave.respondents.exists():
        raise ValidationError("本调查已导入作答数据, 修改问卷或计分规则前请重新导入数据。")
    wave.title = fields.title.strip()[:200] or wave.title
    wave.kind = WaveKind(fields.kind)
    wave.year = fields.year
    if fields.region is not None:
        wave.region = fields.region
    wave.questionnaire = questionnaire
    wave.scoring = scoring
    wave.min_n = fields.min_n
    wave.max_rse = fields.max_rse
    wave.notes = fields.notes
    wave.ci_method = fields.ci_method
    wave.full_clean(exclude=["created_by"])
    with transaction.atomic():
        version_check(
            wave,
            expected=version,
            fields=WAVE_EDIT_FIELDS,
            extra=lambda current: [
                (label, _config_text(mine), _config_text(getattr(current, name)))
                for name, label, mine in (
                    ("questionnaire", "问卷", questionnaire),
                    ("scoring", "计分规则", scoring),
                )
            ],
        )
        return save_in_scope(user, wave, Action.CHANGE)


def _config_text(config: dict[str, Any]) -> str:
    """A JSON configuration in a stale-edit refusal: its size and a short fingerprint."""
    text = json.dumps(config, ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    items = f"{len(config['items'])} 题, " if isinstance(config.get("items"), list) else ""
    return f"{items}摘要 {digest}"


def wave_delete(*, user: UserLike, wave: Wave) -> None:
    ensure_in_scope(user, wave, Action.DELETE)
    wave.delete()


def wave_target_add(
    *,
    user: UserLike,
    wave: Wave,
    year: int,
    rate: float,
    label: str = "",
    plan_target: Target | None = None,
) -> WaveTarget:
    ensure_in_scope(user, wave, Action.CHANGE)
    if not 0 < rate <= 100:
        raise ValidationError("目标比例应在 0 到 100 之间 (单位: %)。")
    if (
        plan_target is not None
        and not Target.objects.restrict(user, Action.VIEW).filter(pk=plan_target.pk).exists()
    ):
        raise PermissionDenied("所选规划目标不在您的范围内。")
    target = WaveTarget(wave=wave, year=year, rate=rate, label=label[:200], plan_target=plan_target)
    return save_in_scope(user, target, Action.CHANGE)


def wave_target_delete(*, user: UserLike, target: WaveTarget) -> None:
    ensure_in_scope(user, target, Action.CHANGE)
    target.delete()


# --- imports (kepu.survey.importing) ---------------------------------------------------------
def respondents_import(
    *,
    user: UserLike,
    wave: Wave,
    name: str,
    data: bytes,
    progress: Callable[[float, str], None] | None = None,
) -> ImportSummary:
    """Replace the wave's microdata with the rows of a CSV/XLSX file, all or nothing.

    ``progress(fraction, message)`` is called while reading, checking and saving (for a
    background job's progress bar). Raises :class:`SurveyImportError` with Chinese row
    errors (the first 100, then "另有 N 处错误"); nothing is saved then.
    """
    return importing.import_respondents(
        user=user, wave=wave, name=name, data=data, progress=progress
    )


def margins_clear(*, user: UserLike, wave: Wave, variable: str = "") -> None:
    ensure_in_scope(user, wave, Action.CHANGE)
    qs = wave.margins.all()
    if variable:
        qs = qs.filter(variable=variable)
    qs.delete()


# --- estimation runs ----------------------------------------------------------------------
def run_create(*, user: UserLike, wave: Wave, rake: bool = True) -> EstimationRun:
    """A queued run row for the wave (the task that fills it is started by the caller)."""
    ensure_in_scope(user, wave, Action.CHANGE)
    if not wave.respondents.exists():
        raise ValidationError("本调查还没有导入受访者数据。")
    if wave.runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists():
        raise ValidationError("已有正在进行的估计任务, 请等待其完成。")
    run = EstimationRun(
        wave=wave,
        rake=rake and wave.margins.exists(),
        data_version=wave.data_version,
        created_by=user if user.is_authenticated else None,
        message="排队等待后台任务执行",
    )
    return save_in_scope(user, run, Action.CHANGE)


def run_start(*, user: UserLike, wave: Wave, rake: bool = True) -> EstimationRun:
    """Queue an estimation of the wave as a background task; return its run row."""
    from kepu.survey.tasks import estimate_wave

    run = run_create(user=user, wave=wave, rake=rake)
    estimate_wave.enqueue(run.pk)
    run.refresh_from_db()
    return run


def _example_answer(item: dict[str, Any], right: bool) -> str:
    """An answer the engine accepts: the key (right) or the first option / 错 (wrong)."""
    kind, key = item.get("kind"), item.get("key")
    if kind == "true_false":
        truth = key in (True, 1, "1", "T", "TRUE", "对", "是", "正确")
        return "对" if truth == right else "错"
    if right:
        return "".join(key) if isinstance(key, list) else str(key)
    return "A"


def template_example_rows(wave: Wave) -> list[list[str]]:
    """Two example respondents for the microdata template that import as they are: one
    stratum with two primary sampling units (a single PSU cannot give a variance), the
    wave's first sub-region, and an answer to every questionnaire item."""
    child = wave.region.children.order_by("code").first()
    code = (child or wave.region).code
    items = list(wave.questionnaire.get("items", []))
    examples = [
        ["1", code, "城镇", "女", "30-39", "高中(中专、技校)", "产业工人", "1", "101", "1250.5"],
        ["2", code, "乡村", "男", "50-59", "初中", "农民", "1", "102", "980"],
    ]
    return [
        [*row, *[_example_answer(item, right=(k == 0)) for item in items]]
        for k, row in enumerate(examples)
    ]
