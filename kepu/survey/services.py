"""Writes for literacy monitoring: waves, targets, microdata import, margins, runs.

Every write checks the scope (``ensure_in_scope`` / ``save_in_scope``).  The microdata
import is all-or-nothing: rows are validated first, and any error raises
:class:`SurveyImportError` with Chinese row messages before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kepu.audit.models import AuditEntry
from kepu.audit.services import audit_import_summary, audit_rows
from kepu.core.versioning import version_check
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, ensure_in_scope, save_in_scope
from kepu.orgs.selectors import acting_office
from kepu.plans.models import Target
from kepu.regions.models import Region
from kepu.survey import adapter
from kepu.survey.models import (
    BREAKDOWN_CHOICES,
    BREAKDOWN_LABELS,
    AgeBand,
    Education,
    EstimationRun,
    Margin,
    Respondent,
    RunStatus,
    Sex,
    SurveyKeyGroup,
    UrbanRural,
    Wave,
    WaveKind,
    WaveTarget,
)
from kepu.survey.uploads import read_table

MAX_REPORTED_ERRORS = 100


@dataclass
class SurveyImportError(Exception):
    """Validation failed; nothing was saved.  ``errors`` are Chinese messages."""

    errors: list[str]

    def __str__(self) -> str:
        return "；".join(self.errors)


# --- waves ----------------------------------------------------------------------------------
def office_for_survey(user: Any, owner_id: int | None = None) -> Organisation:
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


def wave_create(*, user: Any, owner: Organisation, fields: WaveFields) -> Wave:
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
        created_by=user if user.is_authenticated else None,
    )
    wave.full_clean(exclude=["created_by"])
    return save_in_scope(user, wave, Action.ADD)


WAVE_EDIT_FIELDS = ["title", "kind", "year", "region", "min_n", "max_rse", "notes"]


def wave_update(*, user: Any, wave: Wave, fields: WaveFields, version: int | None = None) -> Wave:
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


def wave_delete(*, user: Any, wave: Wave) -> None:
    ensure_in_scope(user, wave, Action.DELETE)
    wave.delete()


def wave_target_add(
    *,
    user: Any,
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


def wave_target_delete(*, user: Any, target: WaveTarget) -> None:
    ensure_in_scope(user, target, Action.CHANGE)
    target.delete()


# --- value normalisation ------------------------------------------------------------------
def _norm(text: str) -> str:
    return (
        text.strip()
        .lower()
        .replace(" ", "")
        .replace("　", "")
        .replace("（", "(")
        .replace("）", ")")
        .replace("—", "-")
        .replace("–", "-")
        .replace("～", "-")
        .replace("~", "-")
        .replace("至", "-")
    )


def _vocabulary() -> dict[str, dict[str, str]]:
    vocab: dict[str, dict[str, str]] = {}
    for variable, choices in BREAKDOWN_CHOICES.items():
        words: dict[str, str] = {}
        for value, label in choices.choices:
            words[_norm(value)] = value
            words[_norm(label)] = value
        vocab[variable] = words
    extra = {
        "urban_rural": {
            "城市": UrbanRural.URBAN,
            "城": UrbanRural.URBAN,
            "城镇居民": UrbanRural.URBAN,
            "农村": UrbanRural.RURAL,
            "乡": UrbanRural.RURAL,
            "农村居民": UrbanRural.RURAL,
            "乡村居民": UrbanRural.RURAL,
        },
        "sex": {"男性": Sex.MALE, "m": Sex.MALE, "女性": Sex.FEMALE, "f": Sex.FEMALE},
        "education": {
            "小学": Education.PRIMARY,
            "未上学": Education.PRIMARY,
            "小学及以下": Education.PRIMARY,
            "高中": Education.SENIOR,
            "中专": Education.SENIOR,
            "技校": Education.SENIOR,
            "高中/中专": Education.SENIOR,
            "大专": Education.COLLEGE,
            "专科": Education.COLLEGE,
            "本科": Education.BACHELOR,
            "大学本科": Education.BACHELOR,
            "研究生": Education.BACHELOR,
            "本科及以上": Education.BACHELOR,
        },
        "key_group": {
            "公务员": SurveyKeyGroup.CADRES,
            "领导干部": SurveyKeyGroup.CADRES,
            "工人": SurveyKeyGroup.WORKERS,
        },
    }
    for variable, words in extra.items():
        vocab[variable].update({_norm(k): v for k, v in words.items()})
    for value, _ in AgeBand.choices:
        lo, hi = value.split("-")
        vocab["age_band"][f"{lo}-{hi}岁"] = value
        vocab["age_band"][f"{lo}岁-{hi}岁"] = value
    return vocab


VOCABULARY = _vocabulary()


def _age_band(text: str) -> str | None:
    key = _norm(text)
    if key in VOCABULARY["age_band"]:
        return VOCABULARY["age_band"][key]
    if key.isdigit():  # an exact age
        age = int(key)
        for value, _ in AgeBand.choices:
            lo, hi = (int(x) for x in value.split("-"))
            if lo <= age <= hi:
                return value
    return None


def normalise_category(variable: str, text: str) -> str | None:
    """Map a category as written ('男', 'female', '18—29岁', 35) to its stored code."""
    if variable == "age_band":
        return _age_band(text)
    return VOCABULARY.get(variable, {}).get(_norm(text))


def category_hint(variable: str) -> str:
    choices = BREAKDOWN_CHOICES.get(variable)
    return "/".join(label for _, label in choices.choices) if choices else ""


# --- microdata import -----------------------------------------------------------------------
HEADER_ALIASES = {
    "region": "region",
    "region_code": "region",
    "区划代码": "region",
    "地区代码": "region",
    "行政区划代码": "region",
    "urban_rural": "urban_rural",
    "城乡": "urban_rural",
    "城乡类型": "urban_rural",
    "sex": "sex",
    "性别": "sex",
    "age_band": "age_band",
    "age": "age_band",
    "年龄段": "age_band",
    "年龄组": "age_band",
    "年龄": "age_band",
    "education": "education",
    "文化程度": "education",
    "受教育程度": "education",
    "学历": "education",
    "key_group": "key_group",
    "重点人群": "key_group",
    "人群": "key_group",
    "stratum": "stratum",
    "strata": "stratum",
    "层": "stratum",
    "分层": "stratum",
    "psu": "psu",
    "cluster": "psu",
    "初级抽样单元": "psu",
    "weight": "weight",
    "weights": "weight",
    "wt": "weight",
    "权重": "weight",
    "id": "external_id",
    "respondent_id": "external_id",
    "编号": "external_id",
    "问卷编号": "external_id",
    "score": "score",
    "得分": "score",
    "总分": "score",
    "literate": "literate",
    "具备科学素质": "literate",
}
# The standard microdata columns, in template order (item answers or a score follow).
DATA_COLUMNS = [
    "respondent_id",
    "region_code",
    "urban_rural",
    "sex",
    "age_band",
    "education",
    "key_group",
    "stratum",
    "psu",
    "weight",
]
REQUIRED_COLUMNS = {
    "region": "区划代码(region_code)",
    "urban_rural": "城乡(urban_rural)",
    "sex": "性别(sex)",
    "age_band": "年龄段(age_band)",
    "education": "文化程度(education)",
    "weight": "权重(weight)",
}
TRUE_WORDS = {"1", "是", "true", "yes", "y", "具备"}
FALSE_WORDS = {"0", "否", "false", "no", "n", "不具备"}


def _header_map(header: list[str], item_ids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    columns: dict[str, int] = {}
    items: dict[str, int] = {}
    wanted_items = {i.lower(): i for i in item_ids}
    for col, raw in enumerate(header):
        key = _norm(raw.replace("\ufeff", ""))
        if key in wanted_items and wanted_items[key] not in items:
            items[wanted_items[key]] = col
        elif key in HEADER_ALIASES and HEADER_ALIASES[key] not in columns:
            columns[HEADER_ALIASES[key]] = col
    return columns, items


@dataclass
class _Regions:
    """The wave region's subtree, looked up by code, with each region's sub-region."""

    wave_region: Region
    by_code: dict[str, Region] = field(default_factory=dict)
    children_by_path: dict[str, Region] = field(default_factory=dict)

    @classmethod
    def load(cls, region: Region) -> _Regions:
        found = cls(wave_region=region)
        for r in Region.objects.subtree(region).only("pk", "code", "name", "path", "parent_id"):
            found.by_code[r.code] = r
            if r.parent_id == region.pk:
                found.children_by_path[r.path] = r
        return found

    def lookup(self, code: str) -> Region | None:
        code = code.strip()
        if code.endswith(".0"):
            code = code[:-2]
        if len(code) == 12 and code.endswith("000"):  # 12-digit township code
            code = code[:9]
        if len(code) == 12 and code.endswith("000000"):
            code = code[:6]
        return self.by_code.get(code)

    def subregion(self, region: Region) -> Region | None:
        if region.pk == self.wave_region.pk:
            return None
        rest = region.path[len(self.wave_region.path) :]
        child_path = self.wave_region.path + rest.split("/", 1)[0] + "/"
        return self.children_by_path.get(child_path)


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass
class ImportSummary:
    rows: int
    mode: str  # answers | scores
    subregions: int
    literate_share: float


def respondents_import(*, user: Any, wave: Wave, name: str, data: bytes) -> ImportSummary:
    """Replace the wave's microdata with the rows of a CSV/XLSX file, all or nothing."""
    ensure_in_scope(user, wave, Action.CHANGE)
    try:
        rows = read_table(name, data)
    except ValidationError as exc:
        raise SurveyImportError(exc.messages) from exc
    header, body = rows[0], rows[1:]
    item_ids = wave.item_ids
    columns, items = _header_map(header, item_ids)
    errors: list[str] = []
    missing = [label for key, label in REQUIRED_COLUMNS.items() if key not in columns]
    if missing:
        errors.append(f"缺少必需的列: {'、'.join(missing)}。")
    has_scores = "score" in columns
    if not has_scores and not items:
        errors.append(
            "没有找到作答或得分: 需要问卷题目列 (如 "
            f"{'、'.join(item_ids[:3]) or 'q01'} …) 或「得分(score)」列。"
        )
    elif not has_scores and len(items) < len(item_ids):
        absent = [i for i in item_ids if i not in items]
        errors.append(
            f"缺少问卷题目列: {'、'.join(absent[:10])}{' 等' if len(absent) > 10 else ''}。"
        )
    if errors:
        raise SurveyImportError(errors)
    mode = "scores" if has_scores else "answers"

    scorer: adapter.Scorer | None = None
    if mode == "answers":
        try:
            scorer = adapter.Scorer(wave.questionnaire, wave.scoring)
        except Exception as exc:  # the engine's SurveyError: a broken wave configuration
            raise SurveyImportError([f"本调查的问卷或计分规则有误: {exc}"]) from exc
    max_score = float(wave.scoring.get("total_points") or 100)
    regions = _Regions.load(wave.region)
    parsed: list[dict[str, Any]] = []
    row_errors_all: list[tuple[int, str]] = []  # (row number, message)
    answer_rows: list[tuple[int, list[str]]] = []

    def get(row: list[str], key: str) -> str:
        col = columns.get(key)
        return row[col].strip() if col is not None and col < len(row) else ""

    for line, row in enumerate(body, start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row_errors_all) >= MAX_REPORTED_ERRORS:
            break
        row_errors: list[str] = []
        rec: dict[str, Any] = {"row_number": line, "external_id": get(row, "external_id")[:64]}

        code = get(row, "region")
        region = regions.lookup(code) if code else None
        if not code:
            row_errors.append("区划代码为空")
        elif region is None:
            row_errors.append(f"区划代码「{code}」不在调查区域「{wave.region.name}」内")
        else:
            rec["region"] = region
            rec["subregion"] = regions.subregion(region)

        for key in ("urban_rural", "sex", "age_band", "education", "key_group"):
            raw = get(row, key)
            label = BREAKDOWN_LABELS[key]
            if not raw:
                if key == "key_group":
                    rec[key] = ""
                    continue
                row_errors.append(f"{label}为空")
                continue
            value = normalise_category(key, raw)
            if value is None:
                row_errors.append(f"{label}「{raw}」无法识别 (应为 {category_hint(key)})")
            else:
                rec[key] = value

        rec["stratum"] = get(row, "stratum")[:64]
        rec["psu"] = get(row, "psu")[:64]
        raw_weight = get(row, "weight")
        weight = _number(raw_weight) if raw_weight else None
        if not raw_weight:
            row_errors.append("权重为空")
        elif weight is None:
            row_errors.append(f"权重「{raw_weight}」不是数字")
        elif weight <= 0:
            row_errors.append("权重必须大于0")
        else:
            rec["weight"] = weight

        if mode == "scores":
            raw_score = get(row, "score")
            score = _number(raw_score) if raw_score else None
            if not raw_score:
                row_errors.append("得分为空")
            elif score is None:
                row_errors.append(f"得分「{raw_score}」不是数字")
            elif not 0 <= score <= max_score:
                row_errors.append(f"得分必须在0到{max_score:g}之间")
            else:
                rec["score"] = score
                raw_lit = get(row, "literate").lower()
                if raw_lit in TRUE_WORDS:
                    rec["literate"] = True
                elif raw_lit in FALSE_WORDS:
                    rec["literate"] = False
                elif raw_lit:
                    row_errors.append(f"具备科学素质「{raw_lit}」应为 1 或 0")
                else:
                    rec["literate"] = adapter.literate_from_score(wave.scoring, score)
        else:
            assert scorer is not None
            answers = {
                item: (row[col].strip() if col < len(row) else "") for item, col in items.items()
            }
            rec["answers"] = answers
            answer_rows.append((line, [answers[i] for i in scorer.item_ids]))

        if row_errors:
            row_errors_all.extend((line, msg) for msg in row_errors)
            continue
        parsed.append(rec)

    codes = None
    if scorer is not None:
        codes, bad = scorer.check(answer_rows)
        row_errors_all.extend(bad)
        bad_lines = {line for line, _ in bad}
        parsed = [rec for rec in parsed if rec["row_number"] not in bad_lines]
    row_errors_all.sort(key=lambda e: e[0])  # stable: a row's messages keep their order
    errors = [f"第{line}行: {msg}" for line, msg in row_errors_all[:MAX_REPORTED_ERRORS]]
    if len(row_errors_all) >= MAX_REPORTED_ERRORS:
        errors.append(f"错误过多, 只列出前 {MAX_REPORTED_ERRORS} 处; 请修正后重新导入。")
    if not parsed and not errors:
        errors.append("文件中没有数据行。")
    if not errors:
        errors.extend(_design_errors(parsed))
    if errors:
        raise SurveyImportError(errors)

    if scorer is not None:
        # no errors: every answer row was kept, in order
        assert codes is not None and len(codes) == len(parsed)
        scores, literate = scorer.score(codes)
        for rec, s, lit in zip(parsed, scores, literate, strict=True):
            rec["score"] = float(s)
            rec["literate"] = bool(lit)

    with transaction.atomic():
        wave.respondents.all().delete()
        Respondent.objects.bulk_create(
            (Respondent(wave=wave, **rec) for rec in parsed), batch_size=2000
        )
        wave.data_source_name = name[:255]
        wave.data_imported_at = timezone.now()
        wave.data_version += 1
        wave.data_mode = mode
        save_in_scope(
            user,
            wave,
            Action.CHANGE,
            update_fields=["data_source_name", "data_imported_at", "data_version", "data_mode"],
        )
        audit_import_summary(obj=wave, what="respondents", rows=len(parsed), name=name, actor=user)
    subregions = {rec["subregion"].pk for rec in parsed if rec.get("subregion")}
    return ImportSummary(
        rows=len(parsed),
        mode=mode,
        subregions=len(subregions),
        literate_share=sum(rec["literate"] for rec in parsed) / len(parsed),
    )


def _design_errors(parsed: list[dict[str, Any]]) -> list[str]:
    """Whole-file checks of the design columns (stratum / psu)."""
    errors: list[str] = []
    for key, label in (("stratum", "层(stratum)"), ("psu", "初级抽样单元(psu)")):
        blank = [r["row_number"] for r in parsed if not r[key]]
        if blank and len(blank) < len(parsed):
            rows = "、".join(str(n) for n in blank[:10])
            errors.append(f"{label}只在部分行填写: 第{rows}行为空 (要么全部填写, 要么全部留空)。")
    if errors:
        return errors
    if parsed[0]["psu"]:
        psus: dict[str, set[str]] = {}
        for r in parsed:
            psus.setdefault(r["stratum"], set()).add(r["psu"])
        lonely = [s or "(全部)" for s, p in psus.items() if len(p) < 2]
        if lonely:
            errors.append(
                f"层「{'、'.join(lonely[:10])}」只有1个初级抽样单元, 无法估计抽样方差 "
                "(请合并相邻的层)。"
            )
    elif parsed[0]["stratum"]:
        sizes = Counter(r["stratum"] for r in parsed)
        lonely = [s for s, n in sizes.items() if n < 2]
        if lonely:
            errors.append(f"层「{'、'.join(lonely[:10])}」只有1个受访者, 无法估计抽样方差。")
    return errors


# --- margins ----------------------------------------------------------------------------
MARGIN_VARIABLES = ["subregion", "urban_rural", "sex", "age_band", "education", "key_group"]
MARGIN_VARIABLE_ALIASES = {
    "region": "subregion",
    "region_code": "subregion",
    "区域": "subregion",
    "区划代码": "subregion",
    **{k: v for k, v in HEADER_ALIASES.items() if v in MARGIN_VARIABLES},
    "subregion": "subregion",
}


def _margin_variable(text: str) -> str | None:
    key = _norm(text)
    if key in MARGIN_VARIABLES:
        return key
    return MARGIN_VARIABLE_ALIASES.get(key)


def _margin_category(wave: Wave, variable: str, text: str, regions: _Regions | None) -> str | None:
    if variable == "subregion":
        assert regions is not None
        region = regions.lookup(text)
        if region is None:
            by_name = {r.name: r for r in regions.children_by_path.values()}
            region = by_name.get(text.strip())
        if region is None or region.parent_id != wave.region_id:
            return None
        return region.code
    return normalise_category(variable, text)


def margins_set(
    *, user: Any, wave: Wave, variable: str, rows: list[tuple[str, str]]
) -> list[Margin]:
    """Replace one variable's margins with (category, population) pairs as written."""
    return margins_replace(user=user, wave=wave, rows=[(variable, c, p) for c, p in rows])


def margins_replace(
    *, user: Any, wave: Wave, rows: list[tuple[str, str, str]], line_offset: int = 1
) -> list[Margin]:
    """Replace the margins of every variable named in ``rows`` (all or nothing).

    ``rows`` are (variable, category, population) as written; a variable may be given
    as its code or Chinese name, categories as codes or labels (regions by code or name).
    """
    ensure_in_scope(user, wave, Action.CHANGE)
    regions: _Regions | None = None
    errors: list[str] = []
    found: dict[tuple[str, str], float] = {}
    for line, (raw_var, raw_cat, raw_pop) in enumerate(rows, start=line_offset):
        if not (raw_var or raw_cat or raw_pop):
            continue
        variable = _margin_variable(raw_var)
        if variable is None:
            names = "、".join(f"{BREAKDOWN_LABELS[v]}({v})" for v in MARGIN_VARIABLES)
            errors.append(f"第{line}行: 变量「{raw_var}」无法识别 (应为 {names})")
            continue
        if variable == "subregion" and regions is None:
            regions = _Regions.load(wave.region)
        category = _margin_category(wave, variable, raw_cat, regions)
        population = _number(raw_pop)
        if category is None:
            hint = "下一级区划的代码或名称" if variable == "subregion" else category_hint(variable)
            errors.append(
                f"第{line}行: {BREAKDOWN_LABELS[variable]}「{raw_cat}」无法识别 (应为 {hint})"
            )
        elif population is None:
            errors.append(f"第{line}行: 总体人数「{raw_pop}」不是数字")
        elif population <= 0:
            errors.append(f"第{line}行: 总体人数必须大于0")
        elif (variable, category) in found:
            errors.append(f"第{line}行: {BREAKDOWN_LABELS[variable]}「{raw_cat}」重复")
        else:
            found[(variable, category)] = population
    if not found and not errors:
        errors.append("没有总体边际数据。")
    if errors:
        raise SurveyImportError(errors)
    variables = {v for v, _ in found}
    with transaction.atomic():
        wave.margins.filter(variable__in=variables).delete()
        created = Margin.objects.bulk_create(
            Margin(wave=wave, variable=v, category=c, population=p) for (v, c), p in found.items()
        )
        audit_rows(action=AuditEntry.Action.CREATE, rows=created, actor=user)
        ensure_in_scope(user, wave, Action.CHANGE)
    return created


def margins_import(
    *, user: Any, wave: Wave, name: str, data: bytes, variable: str = ""
) -> list[Margin]:
    """Import margins from the CLI's CSV format.

    Accepted layouts: ``variable,value,Freq`` (several variables in one file);
    ``<variable>,Freq`` (R's ``rake`` population margin, the header names the variable);
    ``value,Freq`` with ``variable`` chosen in the form.
    """
    try:
        rows = read_table(name, data)
    except ValidationError as exc:
        raise SurveyImportError(exc.messages) from exc
    header = [_norm(h.replace("\ufeff", "")) for h in rows[0]]
    freq_names = {"freq", "population", "总体人数", "人数", "total"}
    freq_col = next((i for i, h in enumerate(header) if h in freq_names), None)
    if freq_col is None:
        raise SurveyImportError(["找不到总体人数列: 表头应为 value,Freq 或 variable,value,Freq。"])
    others = [i for i in range(len(header)) if i != freq_col]
    var_col = next((i for i in others if header[i] in {"variable", "var", "变量"}), None)
    value_col = next(
        (i for i in others if i != var_col and header[i] in {"value", "category", "类别", "取值"}),
        None,
    )
    fixed_variable = ""
    if var_col is None:
        if value_col is None and others:
            value_col = others[0]
            fixed_variable = rows[0][value_col]
        if variable:
            fixed_variable = variable
        if not fixed_variable or _margin_variable(fixed_variable) is None:
            raise SurveyImportError(["请选择该文件对应的变量 (或在表头中写明变量名)。"])
    if value_col is None:
        raise SurveyImportError(["找不到类别列: 表头应为 value,Freq 或 variable,value,Freq。"])

    def cell(row: list[str], col: int | None) -> str:
        return row[col].strip() if col is not None and col < len(row) else ""

    triples = [
        (
            cell(row, var_col) if var_col is not None else fixed_variable,
            cell(row, value_col),
            cell(row, freq_col),
        )
        for row in rows[1:]
    ]
    return margins_replace(user=user, wave=wave, rows=triples, line_offset=2)


def margins_clear(*, user: Any, wave: Wave, variable: str = "") -> None:
    ensure_in_scope(user, wave, Action.CHANGE)
    qs = wave.margins.all()
    if variable:
        qs = qs.filter(variable=variable)
    qs.delete()


# --- estimation runs ----------------------------------------------------------------------
def run_create(*, user: Any, wave: Wave, rake: bool = True) -> EstimationRun:
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


def run_start(*, user: Any, wave: Wave, rake: bool = True) -> EstimationRun:
    """Queue an estimation of the wave as a background task; return its run row."""
    from kepu.survey.tasks import estimate_wave

    run = run_create(user=user, wave=wave, rake=rake)
    estimate_wave.enqueue(run.pk)
    run.refresh_from_db()
    return run
