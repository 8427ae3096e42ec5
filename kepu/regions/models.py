from __future__ import annotations

from django.db import models


class Level(models.IntegerChoices):
    NATIONAL = 0, "国家"
    PROVINCE = 1, "省级"
    PREFECTURE = 2, "地级"
    COUNTY = 3, "县级"
    TOWNSHIP = 4, "乡级"


class RegionQuerySet(models.QuerySet):
    def subtree(self, region: Region) -> RegionQuerySet:
        """The region itself and everything below it: one indexed prefix query."""
        return self.filter(path__startswith=region.path)

    def descendants(self, region: Region) -> RegionQuerySet:
        return self.subtree(region).exclude(pk=region.pk)


class Region(models.Model):
    """An administrative division (GB/T 2260 code; 9 digits for townships).

    ``code`` is the full division code: 6 digits down to county level
    (``530300`` for a prefecture), 9 for townships (``530302001``).
    ``path`` is the materialised path of the short codes from the national root,
    e.g. ``CN/53/5303/530302/530302001/``; ``path__startswith`` selects a subtree.
    """

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField("路径", max_length=64, unique=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def short_code(self) -> str:
        return short_code(self.code, self.level)

    def ancestors(self) -> list[Region]:
        """Ancestors from the root down, excluding self (one query)."""
        prefixes = [p for p in self.path.strip("/").split("/")[:-1]]
        paths = ["/".join(prefixes[: i + 1]) + "/" for i in range(len(prefixes))]
        by_path = {r.path: r for r in Region.objects.filter(path__in=paths)}
        return [by_path[p] for p in paths if p in by_path]

    def full_name(self) -> str:
        return "".join(r.name for r in [*self.ancestors(), self] if r.name != "市辖区")


def short_code(code: str, level: int) -> str:
    """The significant prefix of a division code at a level (``530300``, 2 → ``5303``)."""
    return {
        Level.NATIONAL: "CN",
        Level.PROVINCE: code[:2],
        Level.PREFECTURE: code[:4],
        Level.COUNTY: code[:6],
        Level.TOWNSHIP: code[:9],
    }[Level(level)]
