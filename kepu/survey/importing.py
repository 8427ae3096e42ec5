"""Survey microdata and margin imports: files → checked rows → one short write.

The public entries are in :mod:`kepu.survey.services` (``respondents_import``,
``margins_import``, ``margins_replace``, ``margins_set``). Everything here follows the
project's import rules (:mod:`kepu.core.importing`): the file's size is checked before
it is read, it is read as a stream with a row cap, every row is checked by one parser
per column, errors are collected (the first 100 listed, then "另有 N 处错误"), and only a
file without errors is written: one atomic block, ``bulk_create`` in batches, after
parsing has finished.

Besides the platform's own columns (see :data:`DATA_COLUMNS` and the template), the
output of ``kepu survey synth`` imports as it is: its column names are aliases
(``province`` → region, ``urban`` → urban/rural, ``group`` → key group, ``id``) and, when
a file has that layout, its numeric codes are read with the synth code book
(:data:`kepu.survey.engine.synth.LABELS`).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kepu.audit.services import audit_import_summary, audit_rows
from kepu.core.files import DATA, check_upload
from kepu.core.importing import (
    MAX_REPORTED_ERRORS,
    DataImportError,
    RowErrors,
    SheetLimits,
    check_xlsx_size,
    csv_rows,
    decode_csv,
    xlsx_rows,
)
from kepu.core.types import UserLike
from kepu.orgs.scoping import Action, ensure_in_scope, save_in_scope
from kepu.regions.models import Region
from kepu.survey import adapter
from kepu.survey.models import (
    BREAKDOWN_CHOICES,
    BREAKDOWN_LABELS,
    AgeBand,
    Education,
    Margin,
    Respondent,
    Sex,
    SurveyKeyGroup,
    UrbanRural,
    Wave,
)

Progress = Callable[[float, str], None]

# National microdata: 300,000 respondents is a national wave; 2,000,000 is the cap.
MAX_RESPONDENTS = 2_000_000
RESPONDENT_LIMITS = SheetLimits(
    rows=MAX_RESPONDENTS, cells=MAX_RESPONDENTS * 120, unpacked_bytes=2 * 1024 * 1024 * 1024
)
MAX_MARGIN_ROWS = 10_000
MARGIN_LIMITS = SheetLimits(
    rows=MAX_MARGIN_ROWS, cells=MAX_MARGIN_ROWS * 10, unpacked_bytes=64 << 20
)
WRITE_BATCH = 5000


# --- reading files ------------------------------------------------------------------------
def read_rows(
    name: str, data: bytes, *, limits: SheetLimits
) -> tuple[Iterator[list[str]], int | None]:
    """Check an uploaded CSV/XLSX and stream its rows (header first) as stripped strings.

    Returns the rows and, when cheaply known, how many lines the file has (for progress).
    """
    try:
        ext = check_upload(name, data, DATA)
    except ValidationError as exc:
        raise DataImportError(exc.messages) from exc
    if ext == ".csv":
        text = decode_csv(data)
        return csv_rows(text, max_rows=limits.rows), text.count("\n") + 1
    check_xlsx_size(data, limits)
    return xlsx_rows(data, limits), None


# --- value normalisation ------------------------------------------------------------------
def norm(text: str) -> str:
    return (
        text.strip()
        .lower()
        .replace(" ", "")
        .replace("\u3000", "")
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
            words[norm(value)] = value
            words[norm(label)] = value
        vocab[variable] = words
    extra: dict[str, dict[str, str]] = {
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
        vocab[variable].update({norm(k): v for k, v in words.items()})
    for value, _ in AgeBand.choices:
        lo, hi = value.split("-")
        vocab["age_band"][f"{lo}-{hi}岁"] = value
        vocab["age_band"][f"{lo}岁-{hi}岁"] = value
    return vocab


VOCABULARY = _vocabulary()


def _age_band(text: str) -> str | None:
    key = norm(text)
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
    return VOCABULARY.get(variable, {}).get(norm(text))


def category_hint(variable: str) -> str:
    choices = BREAKDOWN_CHOICES.get(variable)
    return "/".join(label for _, label in choices.choices) if choices else ""


def _synth_codebook() -> dict[str, dict[str, str]]:
    """``kepu survey synth``'s numeric codes → their labels, per platform variable."""
    from kepu.survey.engine.synth import LABELS

    rename = {"urban": "urban_rural", "group": "key_group"}
    return {
        rename.get(var, var): {str(code): label for code, label in labels.items()}
        for var, labels in LABELS.items()
        if var != "province"
    }


SYNTH_CODEBOOK = _synth_codebook()


# --- microdata columns --------------------------------------------------------------------
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
    # the columns of ``kepu survey synth``
    "province": "region",
    "省份": "region",
    "urban": "urban_rural",
    "group": "key_group",
}
# Column names that only the synth layout uses: their presence selects its code book.
SYNTH_COLUMNS = {"province", "urban", "group"}
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
# The template's Chinese headers (the English names above stay accepted as aliases).
DATA_COLUMNS_ZH = {
    "respondent_id": "问卷编号",
    "region_code": "区划代码",
    "urban_rural": "城乡",
    "sex": "性别",
    "age_band": "年龄段",
    "education": "文化程度",
    "key_group": "重点人群",
    "stratum": "层",
    "psu": "初级抽样单元",
    "weight": "权重",
}
REQUIRED_COLUMNS = {
    "region": "区划代码(region_code)",
    "urban_rural": "城乡(urban_rural)",
    "sex": "性别(sex)",
    "age_band": "年龄段(age_band)",
    "education": "文化程度(education)",
    "weight": "权重(weight)",
}
CATEGORY_COLUMNS = ("urban_rural", "sex", "age_band", "education", "key_group")
TRUE_WORDS = {"1", "是", "true", "yes", "y", "具备"}
FALSE_WORDS = {"0", "否", "false", "no", "n", "不具备"}


@dataclass
class Columns:
    """Where each known column is in the file, and how its codes are read."""

    columns: dict[str, int]
    items: dict[str, int]
    synth: bool = False

    @classmethod
    def from_header(cls, header: list[str], item_ids: list[str]) -> Columns:
        columns: dict[str, int] = {}
        items: dict[str, int] = {}
        wanted_items = {i.lower(): i for i in item_ids}
        names = [norm(raw.replace("\ufeff", "")) for raw in header]
        for col, key in enumerate(names):
            if key in wanted_items and wanted_items[key] not in items:
                items[wanted_items[key]] = col
            elif key in HEADER_ALIASES and HEADER_ALIASES[key] not in columns:
                columns[HEADER_ALIASES[key]] = col
        return cls(columns, items, synth=bool(SYNTH_COLUMNS & set(names)))


@dataclass
class Regions:
    """The wave region's subtree, looked up by code, with each region's sub-region."""

    wave_region: Region
    by_code: dict[str, Region] = field(default_factory=dict)
    children_by_path: dict[str, Region] = field(default_factory=dict)

    @classmethod
    def load(cls, region: Region) -> Regions:
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
        if len(code) in (2, 4) and code.isdigit():  # a province or prefecture prefix
            code = code.ljust(6, "0")
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


def number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class CellError(ValueError):
    """One cell's value is wrong; the message is Chinese and names the column."""


@dataclass(slots=True)
class RespondentRow:
    """One checked row of microdata, ready to become a :class:`Respondent`."""

    row_number: int
    external_id: str
    region: Region
    subregion: Region | None
    urban_rural: str
    sex: str
    age_band: str
    education: str
    key_group: str
    stratum: str
    psu: str
    weight: float
    score: float = 0.0
    literate: bool = False
    answers: dict[str, str] | None = None


class RowParser:
    """Per-column parsers for one wave and one file layout, with caches (a national
    file repeats the same few hundred codes hundreds of thousands of times)."""

    def __init__(self, wave: Wave, layout: Columns, regions: Regions) -> None:
        self.wave = wave
        self.layout = layout
        self.regions = regions
        self.max_score = float(wave.scoring.get("total_points") or 100)
        self._category_cache: dict[tuple[str, str], str | None] = {}
        self._region_cache: dict[str, tuple[Region, Region | None] | None] = {}

    def cell(self, row: list[str], key: str) -> str:
        col = self.layout.columns.get(key)
        return row[col] if col is not None and col < len(row) else ""

    def region(self, raw: str) -> tuple[Region, Region | None]:
        if not raw:
            raise CellError("区划代码为空")
        if raw not in self._region_cache:
            region = self.regions.lookup(raw)
            self._region_cache[raw] = (
                (region, self.regions.subregion(region)) if region is not None else None
            )
        found = self._region_cache[raw]
        if found is None:
            raise CellError(f"区划代码「{raw}」不在调查区域「{self.wave.region.name}」内")
        return found

    def category(self, key: str, raw: str) -> str:
        if not raw:
            if key == "key_group":
                return ""
            raise CellError(f"{BREAKDOWN_LABELS[key]}为空")
        cache_key = (key, raw)
        if cache_key not in self._category_cache:
            text = SYNTH_CODEBOOK.get(key, {}).get(raw, raw) if self.layout.synth else raw
            self._category_cache[cache_key] = normalise_category(key, text)
        value = self._category_cache[cache_key]
        if value is None:
            raise CellError(f"{BREAKDOWN_LABELS[key]}「{raw}」无法识别 (应为 {category_hint(key)})")
        return value

    @staticmethod
    def weight(raw: str) -> float:
        if not raw:
            raise CellError("权重为空")
        value = number(raw)
        if value is None:
            raise CellError(f"权重「{raw}」不是数字")
        if value <= 0:
            raise CellError("权重必须大于0")
        return value

    def score(self, raw: str) -> float:
        if not raw:
            raise CellError("得分为空")
        value = number(raw)
        if value is None:
            raise CellError(f"得分「{raw}」不是数字")
        if not 0 <= value <= self.max_score:
            raise CellError(f"得分必须在0到{self.max_score:g}之间")
        return value

    def literate(self, raw: str, score: float) -> bool:
        word = raw.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        if word:
            raise CellError(f"具备科学素质「{raw}」应为 1 或 0")
        return adapter.literate_from_score(self.wave.scoring, score)

    def parse(
        self, line: int, row: list[str], mode: str, errors: RowErrors
    ) -> RespondentRow | None:
        """The row as a :class:`RespondentRow`, or None after adding its errors."""
        values: dict[str, Any] = {}
        failed = False

        def run(key: str, parse: Callable[[], Any]) -> None:
            nonlocal failed
            try:
                values[key] = parse()
            except CellError as exc:
                errors.add(line, str(exc))
                failed = True

        run("region", lambda: self.region(self.cell(row, "region")))
        for key in CATEGORY_COLUMNS:

            def parse_category(key: str = key) -> Any:
                return self.category(key, self.cell(row, key))

            run(key, parse_category)
        run("weight", lambda: self.weight(self.cell(row, "weight")))
        if mode == "scores":
            run("score", lambda: self.score(self.cell(row, "score")))
            if "score" in values:
                run("literate", lambda: self.literate(self.cell(row, "literate"), values["score"]))
        if failed:
            return None
        region, subregion = values["region"]
        rec = RespondentRow(
            row_number=line,
            external_id=self.cell(row, "external_id")[:64],
            region=region,
            subregion=subregion,
            urban_rural=values["urban_rural"],
            sex=values["sex"],
            age_band=values["age_band"],
            education=values["education"],
            key_group=values["key_group"],
            stratum=self.cell(row, "stratum")[:64],
            psu=self.cell(row, "psu")[:64],
            weight=values["weight"],
        )
        if mode == "scores":
            rec.score, rec.literate = values["score"], values["literate"]
        else:
            rec.answers = {
                item: (row[col] if col < len(row) else "")
                for item, col in self.layout.items.items()
            }
        return rec


@dataclass
class ImportSummary:
    rows: int
    mode: str  # answers | scores
    subregions: int
    literate_share: float


HEADER_SCAN_ROWS = 10


def _known_columns(row: list[str], item_ids: list[str]) -> int:
    wanted = {i.lower() for i in item_ids}
    names = {norm(c.replace("\ufeff", "")) for c in row if c}
    return len(names & set(HEADER_ALIASES)) + len(names & wanted)


def find_header(
    rows: Iterator[list[str]], item_ids: list[str]
) -> tuple[list[str] | None, int, list[list[str]]]:
    """The header row: the first of the leading rows that names at least two known
    columns (a title row such as "2024年XX市公民科学素质调查数据" above the header is
    skipped), else the first non-empty row. Returns the header, its 1-based line number
    and the rows read after it while looking (to be parsed as data)."""
    leading: list[list[str]] = []
    for row in rows:
        leading.append(row)
        if _known_columns(row, item_ids) >= 2:
            return row, len(leading), []
        if len(leading) >= HEADER_SCAN_ROWS:
            break
    for i, row in enumerate(leading):
        if any(row):
            return row, i + 1, leading[i + 1 :]
    return None, 0, []


def _layout_errors(
    layout: Columns, item_ids: list[str], header: list[str] | None = None, line: int = 1
) -> list[str]:
    errors: list[str] = []
    missing = [label for key, label in REQUIRED_COLUMNS.items() if key not in layout.columns]
    if missing:
        errors.append(f"缺少必需的列: {'、'.join(missing)}。")
        if header is not None:
            found = "、".join(f"「{c}」" for c in header if c) or "(空)"
            errors.append(
                f"找到的表头 (第{line}行): {found}。请检查列名, 可用中文或英文列名, "
                "如「区划代码」或「region_code」; 可下载模板对照。"
            )
    has_scores = "score" in layout.columns
    if not has_scores and not layout.items:
        errors.append(
            "没有找到作答或得分: 需要问卷题目列 (如 "
            f"{'、'.join(item_ids[:3]) or 'q01'} …) 或「得分(score)」列。"
        )
    elif not has_scores and len(layout.items) < len(item_ids):
        absent = [i for i in item_ids if i not in layout.items]
        errors.append(
            f"缺少问卷题目列: {'、'.join(absent[:10])}{' 等' if len(absent) > 10 else ''}。"
        )
    return errors


def design_errors(parsed: list[RespondentRow]) -> list[str]:
    """Whole-file checks of the design columns (stratum / psu)."""
    errors: list[str] = []
    for key, label in (("stratum", "层(stratum)"), ("psu", "初级抽样单元(psu)")):
        blank = [r.row_number for r in parsed if not getattr(r, key)]
        if blank and len(blank) < len(parsed):
            rows = "、".join(str(n) for n in blank[:10])
            errors.append(f"{label}只在部分行填写: 第{rows}行为空 (要么全部填写, 要么全部留空)。")
    if errors:
        return errors
    if parsed[0].psu:
        psus: dict[str, set[str]] = {}
        for r in parsed:
            psus.setdefault(r.stratum, set()).add(r.psu)
        lonely = [s or "(全部)" for s, p in psus.items() if len(p) < 2]
        if lonely:
            errors.append(
                f"层「{'、'.join(lonely[:10])}」只有1个初级抽样单元, 无法估计抽样方差 "
                "(请合并相邻的层)。"
            )
    elif parsed[0].stratum:
        sizes = Counter(r.stratum for r in parsed)
        lonely = [s for s, n in sizes.items() if n < 2]
        if lonely:
            errors.append(f"层「{'、'.join(lonely[:10])}」只有1个受访者, 无法估计抽样方差。")
    return errors


def insert_respondents(wave: Wave, rows: list[RespondentRow]) -> None:
    """Insert checked rows through the shared bulk writer (:func:`kepu.core.bulk.insert_rows`:
    ``COPY`` on PostgreSQL, ``executemany`` on SQLite).

    This is ``Respondent.objects.bulk_create`` without building a model instance and
    preparing 16 fields through the ORM per row (that was 80% of a national import):
    the values are already checked and typed. Fields this import does not fill get their
    model default.
    """
    from kepu.core.bulk import insert_rows

    insert_rows(
        Respondent,
        [
            {
                "wave_id": wave.pk,
                "row_number": r.row_number,
                "external_id": r.external_id,
                "region_id": r.region.pk,
                "subregion_id": r.subregion.pk if r.subregion is not None else None,
                "urban_rural": r.urban_rural,
                "sex": r.sex,
                "age_band": r.age_band,
                "education": r.education,
                "key_group": r.key_group,
                "stratum": r.stratum,
                "psu": r.psu,
                "weight": r.weight,
                "answers": r.answers,
                "score": r.score,
                "literate": r.literate,
            }
            for r in rows
        ],
    )


def _no_progress(fraction: float, message: str) -> None:
    return None


def import_respondents(
    *, user: UserLike, wave: Wave, name: str, data: bytes, progress: Progress | None = None
) -> ImportSummary:
    """Replace the wave's microdata with the rows of a CSV/XLSX file, all or nothing."""
    report = progress or _no_progress
    ensure_in_scope(user, wave, Action.CHANGE)
    report(0.0, "正在读取文件")
    rows, line_count = read_rows(name, data, limits=RESPONDENT_LIMITS)
    item_ids = wave.item_ids
    header, header_line, pending = find_header(rows, item_ids)
    if header is None or not any(header):
        raise DataImportError("文件中没有数据。")
    layout = Columns.from_header(header, item_ids)
    layout_errors = _layout_errors(layout, item_ids, header, header_line)
    if layout_errors:
        raise DataImportError(layout_errors)
    mode = "scores" if "score" in layout.columns else "answers"
    scorer: adapter.Scorer | None = None
    if mode == "answers":
        try:
            scorer = adapter.Scorer(wave.questionnaire, wave.scoring)
        except Exception as exc:  # the engine's SurveyError: a broken wave configuration
            raise DataImportError(f"本调查的问卷或计分规则有误: {exc}") from exc

    parser = RowParser(wave, layout, Regions.load(wave.region))
    errors = RowErrors()
    parsed: list[RespondentRow] = []
    answer_rows: list[tuple[int, list[str]]] = []
    step = 20_000
    for line, row in enumerate(itertools.chain(pending, rows), start=header_line + 1):
        if line % step == 0:
            share = min(line / line_count, 1.0) if line_count else 0.0
            report(0.6 * share, f"已检查 {line - 1:,} 行")
        if not any(row):
            continue
        rec = parser.parse(line, row, mode, errors)
        if rec is None or errors:
            continue  # nothing will be saved: keep checking, stop collecting
        if scorer is not None:
            assert rec.answers is not None
            answer_rows.append((line, [rec.answers.get(i, "") for i in scorer.item_ids]))
        parsed.append(rec)
    if not errors and not parsed:
        errors.add_general("文件中没有数据行。")
    errors.raise_if_any()

    if scorer is not None:
        report(0.6, "正在按计分规则计分")
        codes, bad = scorer.check(answer_rows)
        for line, message in bad:
            errors.add(line, message)
        errors.raise_if_any()
        assert codes is not None and len(codes) == len(parsed)
        scores, literate = scorer.score(codes)
        for rec, s, lit in zip(parsed, scores, literate, strict=True):
            rec.score = float(s)
            rec.literate = bool(lit)
    design = design_errors(parsed)
    if design:
        raise DataImportError(design)

    report(0.7, f"正在保存 {len(parsed):,} 名受访者")
    with transaction.atomic():
        wave.respondents.all().delete()
        for start in range(0, len(parsed), WRITE_BATCH):
            batch = parsed[start : start + WRITE_BATCH]
            insert_respondents(wave, batch)
            report(0.7 + 0.3 * (start + len(batch)) / len(parsed), "正在保存")
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
    report(1.0, f"已导入 {len(parsed):,} 名受访者")
    return ImportSummary(
        rows=len(parsed),
        mode=mode,
        subregions=len({r.subregion.pk for r in parsed if r.subregion is not None}),
        literate_share=sum(r.literate for r in parsed) / len(parsed),
    )


# --- margins ------------------------------------------------------------------------------
MARGIN_VARIABLES = ["subregion", "urban_rural", "sex", "age_band", "education", "key_group"]
MARGIN_VARIABLE_ALIASES = {
    "region": "subregion",
    "region_code": "subregion",
    "区域": "subregion",
    "区划代码": "subregion",
    **{k: v for k, v in HEADER_ALIASES.items() if v in MARGIN_VARIABLES},
    "province": "subregion",
    "subregion": "subregion",
}


def margin_variable(text: str) -> str | None:
    key = norm(text)
    if key in MARGIN_VARIABLES:
        return key
    return MARGIN_VARIABLE_ALIASES.get(key)


def _margin_category(
    wave: Wave, variable: str, text: str, regions: Regions | None, synth: bool
) -> str | None:
    if variable == "subregion":
        assert regions is not None
        region = regions.lookup(text)
        if region is None:
            by_name = {r.name: r for r in regions.children_by_path.values()}
            region = by_name.get(text.strip())
        if region is None or region.parent_id != wave.region_id:
            return None
        return region.code
    if synth:
        text = SYNTH_CODEBOOK.get(variable, {}).get(text.strip(), text)
    return normalise_category(variable, text)


def margins_replace(
    *,
    user: UserLike,
    wave: Wave,
    rows: list[tuple[str, str, str]],
    line_offset: int = 1,
    synth_codes: bool = False,
) -> list[Margin]:
    """Replace the margins of every variable named in ``rows`` (all or nothing).

    ``rows`` are (variable, category, population) as written; a variable may be given
    as its code or Chinese name, categories as codes or labels (regions by code or name).
    With ``synth_codes``, numeric categories are read with the synth code book.
    """
    ensure_in_scope(user, wave, Action.CHANGE)
    regions: Regions | None = None
    errors = RowErrors()
    found: dict[tuple[str, str], float] = {}
    for line, (raw_var, raw_cat, raw_pop) in enumerate(rows, start=line_offset):
        if not (raw_var or raw_cat or raw_pop):
            continue
        variable = margin_variable(raw_var)
        if variable is None:
            names = "、".join(f"{BREAKDOWN_LABELS[v]}({v})" for v in MARGIN_VARIABLES)
            errors.add(line, f"变量「{raw_var}」无法识别 (应为 {names})")
            continue
        if variable == "subregion" and regions is None:
            regions = Regions.load(wave.region)
        category = _margin_category(wave, variable, raw_cat, regions, synth_codes)
        population = number(raw_pop)
        if category is None:
            hint = "下一级区划的代码或名称" if variable == "subregion" else category_hint(variable)
            errors.add(line, f"{BREAKDOWN_LABELS[variable]}「{raw_cat}」无法识别 (应为 {hint})")
        elif population is None:
            errors.add(line, f"总体人数「{raw_pop}」不是数字")
        elif population <= 0:
            errors.add(line, "总体人数必须大于0")
        elif (variable, category) in found:
            errors.add(line, f"{BREAKDOWN_LABELS[variable]}「{raw_cat}」重复")
        else:
            found[(variable, category)] = population
    if not found and not errors:
        errors.add_general("没有总体边际数据。")
    errors.raise_if_any()
    variables = {v for v, _ in found}
    with transaction.atomic():
        wave.margins.filter(variable__in=variables).delete()
        created = Margin.objects.bulk_create(
            Margin(wave=wave, variable=v, category=c, population=p) for (v, c), p in found.items()
        )
        audit_rows(action="create", rows=created, actor=user)
        ensure_in_scope(user, wave, Action.CHANGE)
    return created


def margins_set(
    *, user: UserLike, wave: Wave, variable: str, rows: list[tuple[str, str]]
) -> list[Margin]:
    """Replace one variable's margins with (category, population) pairs as written."""
    return margins_replace(user=user, wave=wave, rows=[(variable, c, p) for c, p in rows])


def margins_import(
    *, user: UserLike, wave: Wave, name: str, data: bytes, variable: str = ""
) -> list[Margin]:
    """Import margins from the CLI's CSV format.

    Accepted layouts: ``variable,value,Freq`` (several variables in one file);
    ``<variable>,Freq`` (R's ``rake`` population margin, the header names the variable,
    as ``kepu survey synth`` writes them, with its codes); ``value,Freq`` with
    ``variable`` chosen in the form.
    """
    rows_iter, _ = read_rows(name, data, limits=MARGIN_LIMITS)
    rows = [row for row in rows_iter]
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise DataImportError("文件中没有数据。")
    header = [norm(h.replace("\ufeff", "")) for h in rows[0]]
    freq_names = {"freq", "population", "总体人数", "人数", "total"}
    freq_col = next((i for i, h in enumerate(header) if h in freq_names), None)
    if freq_col is None:
        raise DataImportError("找不到总体人数列: 表头应为 value,Freq 或 variable,value,Freq。")
    others = [i for i in range(len(header)) if i != freq_col]
    var_col = next((i for i in others if header[i] in {"variable", "var", "变量"}), None)
    value_col = next(
        (i for i in others if i != var_col and header[i] in {"value", "category", "类别", "取值"}),
        None,
    )
    fixed_variable = ""
    synth_codes = False
    if var_col is None:
        if value_col is None and others:
            value_col = others[0]
            fixed_variable = rows[0][value_col]
            synth_codes = header[value_col] in SYNTH_COLUMNS | set(SYNTH_CODEBOOK)
        if variable:
            fixed_variable = variable
        if not fixed_variable or margin_variable(fixed_variable) is None:
            raise DataImportError("请选择该文件对应的变量 (或在表头中写明变量名)。")
    if value_col is None:
        raise DataImportError("找不到类别列: 表头应为 value,Freq 或 variable,value,Freq。")

    def cell(row: list[str], col: int | None) -> str:
        return row[col] if col is not None and col < len(row) else ""

    triples = [
        (
            cell(row, var_col) if var_col is not None else fixed_variable,
            cell(row, value_col),
            cell(row, freq_col),
        )
        for row in rows[1:]
    ]
    return margins_replace(
        user=user, wave=wave, rows=triples, line_offset=2, synth_codes=synth_codes
    )


__all__ = [
    "DATA_COLUMNS",
    "HEADER_ALIASES",
    "MARGIN_VARIABLES",
    "MAX_REPORTED_ERRORS",
    "Columns",
    "ImportSummary",
    "RespondentRow",
    "RowParser",
    "category_hint",
    "import_respondents",
    "margins_import",
    "margins_replace",
    "margins_set",
    "normalise_category",
]
