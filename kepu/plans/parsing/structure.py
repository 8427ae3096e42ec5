"""Lines and tables → the outline tree, tasks, units, targets and metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import metadata as meta
from .deadlines import find_deadline, plan_year
from .decode import Table
from .headings import RANK, Heading, match_appendix, match_heading
from .model import ParsedPlan, Section, Target, Task
from .normalize import Line, Normalized, fold
from .targets import extract_targets
from .units import (
    COOP,
    LEAD,
    Units,
    extract_trailing_units,
    is_label_line,
    lead_first_convention,
    parse_units,
)

# sections whose items are not work tasks unless they name responsible units
NON_WORK = re.compile(
    r"工作要求|有关要求|相关要求|具体要求|相关事项|有关事项|注意事项|其他事项|实施步骤|"
    r"工作步骤|步骤安排|进度安排|时间安排|时间节点|阶段安排|实施阶段|方法步骤|指导思想|总体要求|基本原则|"
    r"工作原则|总体思路|工作思路|(?:总体|主要|工作|发展|预期|总)目标$|^目标$|活动主题|主题和时间|"
    r"活动时间|时间和地点|活动地点|主办单位|承办单位|协办单位|组织机构|联系方式|参加对象|参与对象|"
    r"活动对象|填报要求|报送要求|编制说明|背景"
)
CONTACT = re.compile(
    r"联系人|联系电话|联系方式\s*:|电\s*话\s*:|手机\s*:|传\s*真\s*:|邮\s*箱\s*:|"
    r"e-?mail\s*:|\b1[3-9]\d{9}\b|\b0\d{2,3}-?\d{7,8}\b",
    re.I,
)
_CONTACT_PAREN = re.compile(r"\((?:联系人|联系电话|联系方式|电话)[^()]*\)")
_STAMP = re.compile(r"^\((?:[^()]{2,30}(?:代章|盖章|印章)|此件[^()]{0,12})\)$")
_NON_TASK_LINE = re.compile(r"^(?:抄送|抄报|主送|印发|校对|打印)\s*:|印发$|^\(此件")
_PRINTED_DATE = re.compile(r"((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日\s*印发\s*$")
_GLUED_YEAR = re.compile(r"(?<=[\u4e00-\u9fff])(?=(?:19|20)\d{2}年)")


@dataclass
class Node:
    kind: str
    number: str | None = None
    value: int | None = None
    head: Line | None = None
    paras: list[Line] = field(default_factory=list)
    label_units: Units = field(default_factory=Units)
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None
    # ledger table rows carry their parsed parts directly
    row_units: Units | None = None
    row_extra: list[str] = field(default_factory=list)
    appendix_title_open: bool = False
    attachment_list: bool = False
    # computed
    title: str = ""
    text: str = ""
    units: Units = field(default_factory=Units)
    text_norm: str = ""

    def add(self, child: Node) -> Node:
        child.parent = self
        self.children.append(child)
        return child


def short_title(text: str, section: bool = False) -> str:
    """The heading's short title: text before the first 。 (or the whole line).

    For section headings (not tasks) a title glued to its paragraph by damaged text
    ("活动主题和时间2023年全国科普日主题为…") is cut at the glued year or a colon.
    """
    t = text.strip()
    cut = t.find("。")
    if cut >= 0:
        t = t[:cut]
    t = t.strip().rstrip(":：;；,，、 ")
    if section and len(t) > 24:
        m = _GLUED_YEAR.search(t, 2)
        f = fold(t)
        colon = f.find(":")
        if m and m.start() <= 20 and not re.search(r"[,、;]", f[: m.start()]):
            t = t[: m.start()]
        elif 2 <= colon <= 30:
            t = t[:colon]
    return t.strip()


def _heading_line(line: Line, h: Heading) -> Line:
    return Line(line.orig[h.end :].strip())


class _Builder:
    def __init__(self) -> None:
        self.root = Node("root")
        self.stack: list[Node] = [self.root]
        self.front: list[Line] = []
        self.last_num: dict[str, int] = {}
        self.dates: list[tuple[str, list[str]]] = []  # (iso date, org lines just above)
        self.seen_heading = False

    # -------------------------------------------------------------- helpers
    @property
    def top(self) -> Node:
        return self.stack[-1]

    def _container(self) -> list[Line]:
        return self.front if self.top is self.root else self.top.paras

    def _date(self, iso: str) -> None:
        box = self._container()
        orgs: list[str] = []
        while box:
            norm = box[-1].norm.strip()
            if _STAMP.match(norm):
                box.pop()
                continue
            if meta.looks_like_org(norm) and len(orgs) < 3:
                orgs.insert(0, box.pop().orig.strip())
                continue
            break
        self.dates.append((iso, orgs))

    # -------------------------------------------------------------- lines
    def line(self, line: Line) -> None:
        norm = line.norm.strip()
        if not norm:
            return
        app = match_appendix(norm)
        if app is not None:
            self._appendix(line, app)
            return
        top = self.top
        if top.kind == "appendix" and top.attachment_list:
            h = match_heading(norm)
            if h and h.kind == "ar" and len(norm) < 80 and "。" not in norm:
                return
            top.attachment_list = False
        h = match_heading(norm, line.orig)
        if h is not None and h.weak:
            expected = self.last_num.get(h.kind, 0) + 1
            if h.value not in (expected, 1):
                h = None
        if h is not None:
            self._heading(line, h)
            return
        if is_label_line(norm) and self.top is not self.root:
            inner = norm.strip().strip("()")
            units = parse_units(inner)
            if units:
                self.top.label_units.merge(units)
                return
        iso = meta.parse_date_line(norm)
        if iso is not None:
            self._date(iso)
            return
        m = _PRINTED_DATE.search(norm)
        if m and len(norm) < 60:
            try:
                import datetime as dt

                self.dates.append((dt.date(*map(int, m.groups())).isoformat(), []))
            except ValueError:
                pass
            return
        if (
            CONTACT.search(norm)
            and len(norm) < 120
            and (norm.startswith(("(", "联系")) or len(norm) < 60)
        ):
            return  # personal data: dropped
        if _NON_TASK_LINE.search(norm):
            return
        if top.kind == "appendix" and top.appendix_title_open:
            if len(norm) <= 60 and not norm.endswith(("。", ";")):
                head = top.head.orig if top.head else ""
                top.head = Line(head + line.orig.strip())
                return
            top.appendix_title_open = False
        self._container().append(line)

    def _appendix(self, line: Line, m: re.Match[str]) -> None:
        num = m.group("num")
        rest_start = m.start("rest") if m.group("rest") is not None else None
        node = Node("appendix", number=("附件" + num) if num else "附件")
        stripped = line.orig.strip()
        rest = stripped[rest_start:].strip() if rest_start is not None else ""
        node.head = Line(rest)
        rh = match_heading(fold(rest)) if rest else None
        if rh is not None and rh.kind == "ar":
            node.attachment_list = True
        node.appendix_title_open = True
        self.root.add(node)
        self.stack = [self.root, node]
        self.last_num = {}

    def _heading(self, line: Line, h: Heading) -> None:
        self.seen_heading = True
        rank = RANK[h.kind]
        while len(self.stack) > 1 and RANK[self.top.kind] >= rank:
            self.stack.pop()
        if self.top.kind == "appendix":
            self.top.appendix_title_open = False
        node = Node(h.kind, number=h.number, value=h.value, head=_heading_line(line, h))
        self.top.add(node)
        self.stack.append(node)
        if h.value is not None:
            self.last_num[h.kind] = h.value
        for k in list(self.last_num):
            if RANK[k] > rank:
                del self.last_num[k]

    # -------------------------------------------------------------- tables
    def table(self, table: Table) -> None:
        ledger = _ledger(table)
        if ledger is None:
            for row in table.rows:
                cells = [c for c in row if c]
                dedup: list[str] = []
                for c in cells:
                    if not dedup or dedup[-1] != c:
                        dedup.append(c)
                for part in "  ".join(dedup).split("\n"):
                    if part.strip():
                        self.line(Line(part.strip()))
            return
        parent = self.top
        while parent is not self.root and parent.kind != "appendix" and _is_item(parent):
            # a table after a task paragraph belongs to the enclosing section
            parent = parent.parent or self.root
        if parent.kind == "appendix":
            parent.appendix_title_open = False
        category: Node | None = None
        for row_node, cat in ledger:
            if cat is not None:
                category = parent.add(Node("cat", head=Line(cat)))
                continue
            (category or parent).add(row_node)


def _is_item(node: Node) -> bool:
    """Does the node read like a task item (a sentence, a paragraph or units)?"""
    head = node.head.norm if node.head else ""
    return "。" in head or bool(node.paras) or bool(node.label_units) or head.endswith(")")


# ---------------------------------------------------------------------------------- ledgers
_HEADER_KEYS = [
    ("number", re.compile(r"^(?:序号|编号|序|No\.?)$", re.I)),
    ("lead", re.compile(r"牵头")),
    ("cooperate", re.compile(r"配合|协办|参与单位|协同")),
    ("responsible", re.compile(r"责任单位|责任部门|负责单位|承办单位|责任主体|实施单位|责任处室")),
    ("target", re.compile(r"目标|完成标准|预期成果|指标|成效")),
    ("deadline", re.compile(r"时限|完成时间|时间节点|进度|时间")),
    ("content", re.compile(r"任务|内容|措施|举措|事项|工作")),
    ("category", re.compile(r"类别|领域|项目|板块|专项|方面")),
]


def _header_map(row: list[str]) -> dict[str, int] | None:
    cols: dict[str, int] = {}
    contents: list[int] = []
    for i, cell in enumerate(row):
        key_text = re.sub(r"\s+", "", fold(cell))
        if not key_text or len(key_text) > 12:
            continue
        for key, rx in _HEADER_KEYS:
            if rx.search(key_text):
                if key == "content":
                    contents.append(i)
                elif key not in cols:
                    cols[key] = i
                break
    if contents:
        cols["content"] = contents[-1]
        if len(contents) > 1 and "category" not in cols:
            cols["category"] = contents[0]
    if "content" in cols and ({"lead", "cooperate", "responsible"} & set(cols)):
        return cols
    return None


def _ledger(table: Table) -> list[tuple[Node, str | None]] | None:
    rows = table.rows
    header_at = -1
    cols: dict[str, int] = {}
    for i, row in enumerate(rows[:3]):
        found = _header_map(row)
        if found is not None:
            header_at, cols = i, found
            break
    if header_at < 0:
        return None
    out: list[tuple[Node, str | None]] = []
    last_cat: str | None = None
    ncols = max(cols.values()) + 1
    for row in rows[header_at + 1 :]:
        cells = [c.strip() for c in row]
        nonempty = {c for c in cells if c}
        if not nonempty:
            continue
        if len(nonempty) == 1 and (len(cells) >= 2 or ncols >= 2):
            cat = next(iter(nonempty))
            if len(cat) <= 60 and _header_map(cells) is None:
                h = match_heading(fold(cat))
                out.append((Node("row"), cat[h.end :].strip() if h else cat))
                continue

        def cell(key: str, cells: list[str] = cells) -> str:
            i = cols.get(key)
            return cells[i] if i is not None and i < len(cells) else ""

        content = cell("content")
        if not content or _header_map(cells) is not None:
            continue
        cat = cell("category")
        if cat and cat != last_cat and cat != content:
            h = match_heading(fold(cat))
            out.append((Node("row"), cat[h.end :].strip() if h else cat))
            last_cat = cat
        number = cell("number") or None
        content_line = Line(content.replace("\n", " ").strip())
        h = match_heading(content_line.norm)
        if h is not None and h.kind != "dash":
            number = number or h.number
            content_line = Line(content_line.orig[h.end :].strip())
        units = Units()
        for key, role in (("lead", LEAD), ("cooperate", COOP), ("responsible", None)):
            text = fold(cell(key)).replace("\n", "、")
            if not text:
                continue
            parsed = parse_units(text, require_units=False)
            if parsed is None:
                continue
            if role is not None:
                units.add(role, parsed.unroled)
                units.add(LEAD, parsed.lead)
                units.add(COOP if role == COOP else LEAD, [])
                units.add(COOP, parsed.cooperate)
            else:
                units.merge(parsed)
        node = Node("row", number=number.strip() if number else None, head=content_line)
        node.row_units = units
        for key, label in (("target", "目标任务"), ("deadline", "完成时限")):
            v = cell(key)
            if v and v != content:
                node.row_extra.append(f"{label}：{v.strip()}")
        out.append((node, None))
    return out


# ---------------------------------------------------------------------------------- tree → plan
def build(normalized: Normalized) -> ParsedPlan:
    b = _Builder()
    for block in normalized.blocks:
        if isinstance(block, Table):
            b.table(block)
        else:
            b.line(block)
    full_norm = "\n".join(ln.norm for ln in normalized.blocks if isinstance(ln, Line))
    lead_first = lead_first_convention(full_norm)
    plan = ParsedPlan()
    _metadata(plan, b, normalized)

    doc_targets: list[Target] = []
    for ln in b.front:
        doc_targets.extend(extract_targets(ln.norm, ln.orig))

    def finish(node: Node, path: list[str], inherited: Units | None, non_work: bool) -> Section:
        _compute(node)
        if lead_first and node.units and not node.units.lead:
            node.units.lead_first()
        title = node.title
        if node.kind == "appendix":
            title = (node.number or "附件") + (" " + title if title else "")
            node.title = title
        section = Section(kind=node.kind, number=node.number, title=title, text=node.text)
        leaf = not any(c.kind != "row" or c.head for c in node.children)
        own = node.units if node.units else None
        units = own or inherited
        child_path = [*path, title] if node.kind != "root" else path
        child_non_work = non_work or bool(NON_WORK.search(title)) if node.kind != "root" else False
        is_task = False
        if node.kind == "row":
            is_task = True
        elif node.kind not in ("root", "appendix", "part", "cat") and leaf and node.title:
            if node.kind == "cn":
                is_task = own is not None
            else:
                is_task = (not non_work) or own is not None
        if is_task:
            u = units or Units()
            task = Task(
                path=list(path),
                number=node.number,
                title=node.title,
                text=node.text,
                lead=list(u.lead),
                cooperate=list(u.cooperate),
                responsible=u.responsible,
                targets=extract_targets(node.text_norm, node.text),
            )
            section.task_index = len(plan.tasks)
            plan.tasks.append(task)
        else:
            if node.kind != "root":
                doc_targets.extend(extract_targets(node.text_norm, node.text))
            for child in node.children:
                sub = finish(child, child_path, units, child_non_work)
                empty_appendix = sub.kind == "appendix" and not sub.children
                if (sub.title or sub.children) and not empty_appendix:
                    section.children.append(sub)
        return section

    root_section = finish(b.root, [], None, False)
    plan.sections = root_section.children
    plan.targets = doc_targets
    year = plan_year(plan.period, plan.issued_on, plan.title)
    for task in plan.tasks:
        task.deadline = find_deadline(task.text, year)
    _issuer_is_responsible(plan)
    return plan


def _issuer_is_responsible(plan: ParsedPlan) -> None:
    """A document that names no unit anywhere is the issuer's own work: the issuing body
    (one or several, joined by 、) is responsible for every task. A document that names
    units for some tasks keeps the others empty rather than guessing."""
    if not plan.issuer or not plan.tasks or any(t.responsible for t in plan.tasks):
        return
    issuers = [name for name in plan.issuer.split("、") if name]
    for task in plan.tasks:
        task.responsible = list(issuers)


def _compute(node: Node) -> None:
    if node.kind == "root":
        return
    if node.kind == "cat":
        node.title = short_title(node.head.orig if node.head else "")
        return
    head = node.head or Line("")
    paras = [head, *node.paras]
    if not head.orig.strip() and node.paras and node.kind != "appendix":
        paras = node.paras
    units = Units()
    texts: list[str] = []
    norms: list[str] = []
    for i, p in enumerate(paras):
        orig, norm = p.orig, p.norm
        found = extract_trailing_units(norm) if node.kind != "appendix" else None
        if found is not None:
            start, end, u = found
            units.merge(u)
            tail = norm[end:]
            orig, norm = orig[:start].rstrip(), norm[:start].rstrip()
            if "。" in tail and not norm.endswith("。") and norm:
                orig, norm = orig + "。", norm + "。"
        if "联系" in norm or "电话" in norm:
            spans = [m.span() for m in _CONTACT_PAREN.finditer(norm)]
            for a, z in reversed(spans):
                orig, norm = orig[:a] + orig[z:], norm[:a] + norm[z:]
        if orig.strip() or i == 0:
            texts.append(orig.strip())
            norms.append(norm.strip())
    units.merge(node.label_units)
    if node.row_units is not None:
        units.merge(node.row_units)
        for extra in node.row_extra:
            texts.append(extra)
            norms.append(fold(extra))
    node.units = units
    node.title = short_title(
        texts[0] if texts else "", section=node.kind in ("cn", "part") or bool(node.children)
    )
    while texts and not texts[0]:
        texts.pop(0)
        norms.pop(0)
    node.text = "\n".join(texts).strip()
    node.text_norm = "\n".join(norms).strip()


def _metadata(plan: ParsedPlan, b: _Builder, normalized: Normalized) -> None:
    front = b.front
    norms = [ln.norm.strip() for ln in front]
    origs = [ln.orig.strip() for ln in front]
    # ------------------------------------------------ title blocks
    blocks: list[tuple[str, str]] = []  # (orig, norm)
    i = 0
    while i < len(norms):
        n = norms[i]
        if (
            len(n) <= 60
            and not re.search(r"[。;!?:]$", n)
            and meta.parse_date_line(n) is None
            and not meta.DOC_NUMBER.fullmatch(n)
        ):
            o_acc, n_acc = origs[i], n
            j = i + 1
            while (
                j < len(norms)
                and not meta.DOC_KIND.search(n_acc)
                and len(n_acc) + len(norms[j]) <= 90
                and not re.search(r"[。;!?:]$", norms[j])
                and norms[j]
                and (meta.DOC_KIND.search(norms[j]) or len(norms[j]) <= 30)
                and meta.parse_date_line(norms[j]) is None
            ):
                o_acc, n_acc = o_acc + origs[j], n_acc + norms[j]
                j += 1
            if meta.is_title_line(n_acc) and not (
                meta.looks_like_org(n_acc) and not n_acc.startswith("关于")
            ):
                blocks.append((o_acc, n_acc))
                i = j
                continue
        i += 1
    title = None
    notice_issuer = None
    plain = [blk for blk in blocks if meta.notice_inner_title(blk[1]) is None]
    notices = [blk for blk in blocks if meta.notice_inner_title(blk[1]) is not None]
    if notices:
        pre, _inner = meta.notice_inner_title(notices[0][1]) or ("", "")
        if pre and meta.looks_like_org(pre):
            notice_issuer = pre
    if plain:
        title = plain[-1][0]
    elif notices:
        title = (meta.notice_inner_title(notices[0][1]) or ("", ""))[1] or notices[0][0]
    elif normalized.title_hint:
        title = normalized.title_hint
    plan.title = title.strip() if title else None
    # ------------------------------------------------ issuer and date
    issuer = None
    issued = None
    for iso, orgs in b.dates:
        if orgs:
            issuer = orgs[-1] if len(orgs) == 1 else "、".join(orgs)
            issued = iso
            break
    if issued is None and b.dates:
        issued = b.dates[0][0]
    if issued is None:
        issued = normalized.published
    if issuer is None:
        issuer = notice_issuer
    if issuer is None and norms and meta.looks_like_org(norms[0].split(" ")[-1]):
        issuer = origs[0].split(" ")[-1] if " " in origs[0] else origs[0]
    if issuer is None and plan.title and "关于" in plan.title:
        pre = plan.title.split("关于", 1)[0]
        if meta.looks_like_org(fold(pre)):
            issuer = pre
    plan.issuer = issuer
    plan.issued_on = issued
    # ------------------------------------------------ number and period
    all_norms = norms + [ln.norm for ln in normalized.blocks[:200] if isinstance(ln, Line)]
    plan.doc_number = meta.find_doc_number(all_norms)
    if plan.doc_number:
        pos = "".join(norms).find(plan.doc_number)
        if pos >= 0:
            plan.doc_number = "".join(origs)[pos : pos + len(plan.doc_number)]
    period = meta.find_period(fold(plan.title)) if plan.title else None
    if period is None:
        for _, n in blocks:
            period = meta.find_period(n)
            if period:
                break
    plan.period = period
