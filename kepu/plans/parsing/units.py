"""Responsible units: the parenthesis at the end of a task, labelled lines and ledger cells.

``(区卫健委牵头,区科协、区民政局配合)`` → lead ``[区卫健委]``, cooperate
``[区科协, 区民政局]``; ``(县教育局、县科协)`` → both responsible with no lead;
``(县科协牵头,各成员单位参与)`` → participating units go into ``cooperate``;
``责任单位:市科协、市教育局`` / ``牵头单位:`` / ``配合单位:`` labelled forms.
``responsible`` always lists every named unit (leads, cooperating and unroled).

All functions take *normalised* text (see :func:`normalize.fold`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LEAD, COOP, RESP = "lead", "cooperate", "responsible"

_LABELS = {
    "牵头单位": LEAD,
    "牵头部门": LEAD,
    "主责单位": LEAD,
    "主要责任单位": LEAD,
    "主办单位": LEAD,
    "牵头": LEAD,
    "责任单位": RESP,
    "责任部门": RESP,
    "负责单位": RESP,
    "实施单位": RESP,
    "承办单位": RESP,
    "落实单位": RESP,
    "配合单位": COOP,
    "配合部门": COOP,
    "协办单位": COOP,
    "参与单位": COOP,
    "协同单位": COOP,
    "协作单位": COOP,
    "参加单位": COOP,
    "支持单位": COOP,
}
_LABEL_RE = re.compile("(" + "|".join(sorted(_LABELS, key=len, reverse=True)) + r")\s*[:]\s*")
_ROLE_TAIL = re.compile(
    r"(?:等?(?:按职责分工|按照职责分工|按职责|根据职责|各司其职|分别|共同)?"
    r"(牵头|配合|参与|负责|协助|协办|落实|配合实施|参与实施|负责实施|牵头负责|牵头实施))$"
)
_ROLE_OF = {
    "牵头": LEAD,
    "牵头负责": LEAD,
    "牵头实施": LEAD,
    "配合": COOP,
    "参与": COOP,
    "协助": COOP,
    "协办": COOP,
    "配合实施": COOP,
    "参与实施": COOP,
    "负责": RESP,
    "落实": RESP,
    "负责实施": RESP,
}
_UNIT_SUFFIX = re.compile(
    r"(?:部|委|局|厅|办|院|会|协|中心|政府|单位|集团|公司|台|社|馆|团|署|行|所|处|科|室|站|队|"
    r"组|校|联|中央|镇|乡|街道|村|社区|部门|机构|企业|高校|学校|医院|基地|园区|银行|党校|专班|"
    r"工会|妇联|共青团|团委|区县|县区|市县|省份|各地)$"
)
_PLACE_SUFFIX = re.compile(r"[省市县区州盟旗]$")
_NOT_UNIT = re.compile(r"\d{4}|年|月|[。!?]|试行|暂行|草案|修订|以上|以下|场次|万|亿")
_ETC = re.compile(r"(?:等(?:相关|有关|其他|其它)?(?:单位|部门|机构|组织)?|等)$")
_LEAD_FIRST_NOTE = re.compile(
    r"(?:排|列|位)(?:在|于)?(?:第一|首)位的?(?:单位|部门)?(?:为|是)牵头|第一(?:个|家)?(?:单位|部门)为牵头|"
    r"排名第一的?(?:单位|部门)?为牵头"
)


@dataclass
class Units:
    lead: list[str] = field(default_factory=list)
    cooperate: list[str] = field(default_factory=list)
    unroled: list[str] = field(default_factory=list)

    @property
    def responsible(self) -> list[str]:
        out: list[str] = []
        for name in [*self.lead, *self.cooperate, *self.unroled]:
            if name not in out:
                out.append(name)
        return out

    def __bool__(self) -> bool:
        return bool(self.lead or self.cooperate or self.unroled)

    def add(self, role: str | None, names: list[str]) -> None:
        target = {LEAD: self.lead, COOP: self.cooperate}.get(role or "", self.unroled)
        for n in names:
            if n not in target:
                target.append(n)

    def merge(self, other: Units) -> None:
        self.add(LEAD, other.lead)
        self.add(COOP, other.cooperate)
        self.add(None, other.unroled)

    def lead_first(self) -> None:
        """Apply the convention "the first listed unit leads" to unroled units."""
        if self.unroled and not self.lead:
            self.lead = [self.unroled[0]]
            for n in self.unroled[1:]:
                if n not in self.cooperate:
                    self.cooperate.append(n)
            self.unroled = []


def _strip_parens(name: str) -> str:
    return re.sub(r"\([^()]*\)", "", name)


def is_unit_name(name: str) -> bool:
    base = _strip_parens(name).strip()
    if len(base) < 2 or len(base) > 30 or _NOT_UNIT.search(base):
        return False
    if base.startswith("各"):
        return True
    if _UNIT_SUFFIX.search(base):
        return True
    return len(base) >= 3 and bool(_PLACE_SUFFIX.search(base))


def _split_top(text: str, seps: str) -> list[str]:
    """Split on any char in ``seps`` outside parentheses."""
    parts: list[str] = []
    depth = 0
    buf: list[str] = []
    for ch in text:
        if ch in "(〔[【":
            depth += 1
        elif ch in ")〕]】" and depth:
            depth -= 1
        if ch in seps and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


_CONJ = re.compile(r"[和及与]")


def _split_conj(name: str) -> list[str]:
    for m in _CONJ.finditer(name):
        left, right = name[: m.start()], name[m.end() :]
        if is_unit_name(left) and is_unit_name(right) and not _strip_parens(left).endswith("所"):
            return [left, *_split_conj(right)]
    return [name]


def _clean_name(name: str) -> str:
    name = name.strip(" \t\"'“”‘’「」《》.。:")
    name = re.sub(
        r"^(?:由|请|各级)(?=.{2})", lambda m: "" if m.group(0) != "各级" else "各级", name
    )
    name = _ETC.sub("", name).strip()
    return name


def split_names(text: str) -> list[str]:
    """Unit names in a list separated by 、 , ; / 和 及 (outside parentheses)."""
    names: list[str] = []
    for part in _split_top(text, "、,;/ "):
        part = _clean_name(part)
        if not part:
            continue
        for n in _split_conj(part):
            n = _clean_name(n)
            if n and n not in names:
                names.append(n)
    return names


def parse_units(text: str, *, require_units: bool = True) -> Units | None:
    """Parse a responsibility spec (the inside of the parenthesis, or a labelled line).

    Returns ``None`` when the text does not look like a list of units (an ordinary
    parenthesis such as ``(国家行政学院)`` inside a sentence is rejected by the caller's
    position check; here ``(所、站)`` or ``(2021-2025年)`` are rejected by the name check).
    """
    text = text.strip().strip("。.")
    if not text:
        return None
    units = Units()
    labelled = False
    clauses: list[tuple[str | None, str]] = []
    labels = list(_LABEL_RE.finditer(text))
    if labels:
        labelled = True
        if labels[0].start() > 0:
            head = text[: labels[0].start()].strip(" ,;")
            if head:
                clauses.append((None, head))
        for i, label in enumerate(labels):
            end = labels[i + 1].start() if i + 1 < len(labels) else len(text)
            body = text[label.end() : end].strip(" ,;")
            section_role = _LABELS[label.group(1)]
            for clause in _split_top(body, ";,"):
                clauses.append((section_role, clause))
    else:
        for clause in _split_top(text, ";,"):
            clauses.append((None, clause))
    total = 0
    good = 0
    roled = False
    for label_role, clause in clauses:
        clause = clause.strip()
        if not clause:
            continue
        role = label_role
        m = _ROLE_TAIL.search(clause)
        if m:
            word = m.group(1)
            clause = clause[: m.start()].strip()
            word_role = _ROLE_OF.get(word, RESP)
            if role in (None, RESP) or word_role != RESP:
                role = word_role if not (label_role and word_role == RESP) else label_role
            roled = True
        if role == RESP:
            role = None
        names = split_names(clause)
        for n in names:
            total += 1
            if is_unit_name(n):
                good += 1
        units.add(role, names)
    if total == 0:
        return None
    if labelled:
        ok = good >= 1
    elif roled:
        ok = good * 2 >= total and good >= 1
    else:
        ok = good == total
    if require_units and not ok:
        return None
    return units


_OPEN = "("
_CLOSE = ")"


def trailing_paren(norm: str) -> tuple[int, int, str] | None:
    """The balanced parenthesis group at the end of ``norm`` (ignoring trailing 。;).

    Returns ``(start, end, inner)`` with ``norm[start:end]`` the group including brackets.
    """
    end = len(norm)
    while end > 0 and norm[end - 1] in " 。.;,":
        end -= 1
    if end == 0 or norm[end - 1] != _CLOSE:
        return None
    depth = 0
    for i in range(end - 1, -1, -1):
        ch = norm[i]
        if ch == _CLOSE:
            depth += 1
        elif ch == _OPEN:
            depth -= 1
            if depth == 0:
                return i, end, norm[i + 1 : end - 1]
    return None


_LABEL_TAIL = re.compile(
    r"(?:^|(?<=[。;!?\s]))((?:"
    + "|".join(sorted(_LABELS, key=len, reverse=True))
    + r")\s*:[^。]*?)[。.;]?\s*$"
)
_LABEL_LINE = re.compile(
    r"^\s*[(]?\s*(?:" + "|".join(sorted(_LABELS, key=len, reverse=True)) + r")\s*:"
)


def is_label_line(norm: str) -> bool:
    """A line such as ``责任单位:市科协、市教育局`` (optionally in parentheses)."""
    return bool(_LABEL_LINE.match(norm)) and len(norm) < 200


def extract_trailing_units(norm: str) -> tuple[int, int, Units] | None:
    """Responsibility at the end of a paragraph: a parenthesis or a labelled tail.

    Returns ``(start, end, units)``: ``norm[start:end]`` is the responsibility part (what
    follows ``end`` is only sentence punctuation).
    """
    group = trailing_paren(norm)
    if group is not None:
        start, end, inner = group
        units = parse_units(inner)
        if units:
            return start, end, units
    m = _LABEL_TAIL.search(norm)
    if m:
        units = parse_units(m.group(1))
        if units:
            return m.start(1), len(norm), units
    return None


def lead_first_convention(text: str) -> bool:
    """Does the document say that the first listed unit leads ("排在第一位的为牵头单位")?"""
    return bool(_LEAD_FIRST_NOTE.search(text))
