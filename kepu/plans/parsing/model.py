"""Plain dataclasses returned by the parser, and their JSON shape (``to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .deadlines import Deadline


@dataclass
class Target:
    """A quantitative target: ``comparator`` ∈ {">=", ">", "=", "<=", "<"}."""

    text: str
    comparator: str
    value: int | float
    unit: str
    year: int | None = None

    @property
    def display(self) -> str:
        """The target as the document words it, with its year ("超过15% (2025年)")."""
        from .targets import target_display

        return target_display(self.text, self.comparator, self.value, self.unit, self.year)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "comparator": self.comparator,
            "value": self.value,
            "unit": self.unit,
            "year": self.year,
            "display": self.display,
        }


@dataclass
class Task:
    path: list[str]
    number: str | None
    title: str
    text: str
    lead: list[str] = field(default_factory=list)
    cooperate: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    deadline: Deadline | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": list(self.path),
            "number": self.number,
            "title": self.title,
            "text": self.text,
            "lead": list(self.lead),
            "cooperate": list(self.cooperate),
            "responsible": list(self.responsible),
            "targets": [t.to_dict() for t in self.targets],
            "deadline": (self.deadline or Deadline("")).to_dict(),
        }


@dataclass
class Section:
    """A node of the document outline (a heading, a ledger row or the appendix).

    ``kind`` is one of: ``appendix``, ``part`` (第一部分), ``cn`` (一、), ``pcn`` ((一)),
    ``ar`` (1.), ``par`` ((1)), ``circ`` (①), ``dash`` (——), ``row`` (ledger table row).
    ``task_index`` points into ``ParsedPlan.tasks`` when the node is a task.
    """

    kind: str
    number: str | None
    title: str
    text: str = ""
    children: list[Section] = field(default_factory=list)
    task_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "number": self.number,
            "title": self.title,
            "task_index": self.task_index,
            "children": [c.to_dict() for c in self.children],
        }


@dataclass
class ParsedPlan:
    title: str | None = None
    issuer: str | None = None
    doc_number: str | None = None
    issued_on: str | None = None  # ISO date, YYYY-MM-DD
    period: tuple[int, int] | None = None
    tasks: list[Task] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "issuer": self.issuer,
            "doc_number": self.doc_number,
            "issued_on": self.issued_on,
            "period": list(self.period) if self.period else None,
            "tasks": [t.to_dict() for t in self.tasks],
            "targets": [t.to_dict() for t in self.targets],
            "sections": [s.to_dict() for s in self.sections],
        }
