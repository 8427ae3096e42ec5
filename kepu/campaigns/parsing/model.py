"""The parsed campaign: plain data with a stable JSON contract (``to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Quota:
    who: str  # the kind of organiser as the document names it: 各乡镇, 市直有关单位、学会、协会
    min: int
    unit: str  # 场次, 场, 项, 次 …
    text: str = ""  # the sentence it came from (not part of the JSON contract)

    def to_dict(self) -> dict[str, Any]:
        return {"who": self.who, "min": self.min, "unit": self.unit}


@dataclass
class ParsedCampaign:
    title: str | None = None
    year: int | None = None
    theme: str | None = None
    event_start: str | None = None
    event_end: str | None = None
    registration_start: str | None = None
    registration_end: str | None = None
    completion_deadline: str | None = None
    summary_deadline: str | None = None
    quotas: list[Quota] = field(default_factory=list)
    organizers: list[str] = field(default_factory=list)
    summary_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "year": self.year,
            "theme": self.theme,
            "event_start": self.event_start,
            "event_end": self.event_end,
            "registration_start": self.registration_start,
            "registration_end": self.registration_end,
            "completion_deadline": self.completion_deadline,
            "summary_deadline": self.summary_deadline,
            "quotas": [q.to_dict() for q in self.quotas],
            "organizers": list(self.organizers),
            "summary_columns": list(self.summary_columns),
        }
