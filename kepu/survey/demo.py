"""Demo literacy survey: two waves (2024, 2026) of synthetic microdata for the demo city.

The data are invented but shaped like a real city survey: strata are county × urban/rural,
PSUs are villages/communities inside townships, the sample over-represents women and
older people (so raking to the population margins matters), and literacy depends on
education, age, urbanisation, the county and the PSU.  2024 is imported as precomputed
scores, 2026 as item answers scored by the wave's scoring rules; both go through the same
import service as an office's own file and are estimated synchronously.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from kepu.core.demo import DemoContext
from kepu.plans.models import Target
from kepu.regions.models import Level, Region
from kepu.survey.models import AgeBand, Education, Wave, WaveKind
from kepu.survey.services import (
    DATA_COLUMNS,
    WaveFields,
    margins_replace,
    respondents_import,
    run_create,
    wave_create,
    wave_target_add,
)

# Fictional adult (18–69) populations in thousands, roughly the size of each county,
# with the urban share and a county effect on literacy.
COUNTY_PROFILE: dict[str, tuple[float, float, float]] = {
    "530302": (720, 0.82, 3.0),  # 麒麟区
    "530303": (300, 0.52, 0.5),  # 沾益区
    "530304": (140, 0.45, 0.0),  # 马龙区
    "530322": (460, 0.42, -0.5),  # 陆良县
    "530323": (290, 0.38, -1.5),  # 师宗县
    "530324": (410, 0.40, -1.0),  # 罗平县
    "530325": (520, 0.37, -2.0),  # 富源县
    "530326": (690, 0.30, -3.0),  # 会泽县
    "530381": (940, 0.40, -1.5),  # 宣威市
}
AGE_SHARES = np.array([0.21, 0.20, 0.22, 0.21, 0.16])
AGE_RESPONSE = np.array([0.75, 0.9, 1.0, 1.15, 1.35])  # older people answer more often
SEX_SHARES = np.array([0.51, 0.49])  # male, female
MALE_RESPONSE_SHARE = 0.44
EDU_CUTS = np.array([-0.1, 1.05, 1.8, 2.3])


@dataclass(frozen=True)
class DemoWave:
    year: int
    seed: int
    n: int
    mode: str  # scores | answers
    shift: float  # overall change in ability between waves


WAVES = [
    DemoWave(year=2024, seed=2024_0530, n=4000, mode="scores", shift=0.0),
    DemoWave(year=2026, seed=2026_0530, n=4500, mode="answers", shift=0.09),
]


def _draw(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    cum = np.cumsum(probs, axis=-1)
    u = rng.random(probs.shape[0]) * cum[:, -1]
    return (u[:, None] > cum).sum(axis=1)


def _townships(counties: list[Region]) -> dict[str, list[str]]:
    towns: dict[str, list[str]] = {c.code: [] for c in counties}
    for code, parent_code in Region.objects.filter(
        parent__in=counties, level=Level.TOWNSHIP
    ).values_list("code", "parent__code"):
        towns[parent_code].append(code)
    return towns


def _answer_texts(item: dict) -> tuple[str, list[str]]:
    """The correct answer as written on a form, and some wrong ones."""
    kind, key = item["kind"], item["key"]
    if kind == "true_false":
        return ("对", ["错"]) if key else ("错", ["对"])
    letters = "ABCD"[: int(item.get("options", 4))]
    if kind == "multiple":
        wrong = [c for c in (key[0], key + "B", letters[:3], "D") if c != key]
        return key, wrong
    return key, [c for c in letters if c != key]


def synth_city(
    counties: list[Region], spec: DemoWave, questionnaire: dict
) -> tuple[list[list[str]], dict[str, dict[str, float]]]:
    """Rows (header first) of a synthetic sample for the city and its population margins."""
    rng = np.random.default_rng(spec.seed)
    codes = [c.code for c in counties]
    profile = np.array([COUNTY_PROFILE.get(c, (300, 0.4, 0.0)) for c in codes])
    pop = profile[:, 0] * 1000
    urban_share = profile[:, 1]
    county_eff = profile[:, 2]
    towns = _townships(counties)

    # strata: county × urban/rural; allocation: 40% equal, 60% proportional
    strata = [(i, u) for i in range(len(codes)) for u in (1, 0)]
    n_pop = np.array([pop[i] * (urban_share[i] if u else 1 - urban_share[i]) for i, u in strata])
    share = 0.4 / len(strata) + 0.6 * n_pop / n_pop.sum()
    n_h = np.maximum(np.round(share * spec.n).astype(int), 24)
    rows: list[list[str]] = []
    header = list(DATA_COLUMNS)
    items = questionnaire["items"]
    header += ["score"] if spec.mode == "scores" else [it["id"] for it in items]
    rows.append(header)
    texts = [_answer_texts(it) for it in items]
    points = np.array([float(it["points"]) for it in items])
    difficulty = np.linspace(-1.6, 1.9, len(items))
    rid = 0
    for h, (i, urban) in enumerate(strata):
        m = max(2, round(n_h[h] / 22))
        sizes = rng.multinomial(n_h[h] - 2 * m, np.full(m, 1 / m)) + 2
        county_towns = towns.get(codes[i]) or [codes[i]]
        for k, size in enumerate(sizes):
            town = county_towns[(k * 7 + h) % len(county_towns)]
            psu_eff = rng.normal(0, 0.35)
            male = rng.random(size) < MALE_RESPONSE_SHARE
            age = _draw(rng, np.tile(AGE_SHARES * AGE_RESPONSE, (size, 1)))
            mu = 0.55 + 0.75 * urban + 0.12 * county_eff[i] - 0.33 * age + 0.12 * male
            cut = EDU_CUTS[None, :] - mu[:, None]
            cdf = np.concatenate(
                [np.zeros((size, 1)), 1 / (1 + np.exp(-1.7 * cut)), np.ones((size, 1))], axis=1
            )
            edu = _draw(rng, np.diff(cdf, axis=1))
            theta = (
                -1.12
                + spec.shift
                + 0.45 * edu
                - 0.12 * age
                + 0.18 * urban
                + 0.07 * county_eff[i]
                + psu_eff
                + rng.normal(0, 0.55, size)
            )
            p_correct = 0.2 + 0.8 / (1 + np.exp(-1.6 * (theta[:, None] - difficulty[None, :])))
            correct = rng.random((size, len(items))) < p_correct
            weight_base = n_pop[h] / n_h[h]
            weights = weight_base * rng.uniform(0.8, 1.25, size)
            for r in range(size):
                rid += 1
                group = _key_group(rng, urban, int(age[r]), int(edu[r]))
                row = [
                    str(rid),
                    town,
                    "城镇" if urban else "乡村",
                    "男" if male[r] else "女",
                    AgeBand.values[age[r]],
                    Education.labels[edu[r]],
                    group,
                    f"{codes[i]}-{urban}",
                    f"{codes[i]}-{urban}-{k + 1:02d}",
                    f"{weights[r]:.2f}",
                ]
                if spec.mode == "scores":
                    row.append(f"{float(points @ correct[r]):g}")
                else:
                    for j, (right, wrong) in enumerate(texts):
                        if correct[r, j]:
                            row.append(right)
                        elif rng.random() < 0.06:
                            row.append("")  # not answered
                        else:
                            row.append(wrong[int(rng.integers(len(wrong)))])
                rows.append(row)
    return rows, _margins(codes, pop, urban_share)


def _key_group(rng: np.random.Generator, urban: int, age: int, edu: int) -> str:
    if age == 4 and rng.random() < 0.8:
        return "老年人"
    u = rng.random()
    if edu >= 3 and u < 0.05:
        return "领导干部和公务员"
    if urban:
        return "产业工人" if u < 0.35 else ("城镇劳动者" if u < 0.8 else "其他")
    return "农民" if u < 0.65 else ("产业工人" if u < 0.85 else "其他")


def _int_margin(values: dict[str, float], total: int) -> dict[str, float]:
    keys = list(values)
    v = np.array([values[k] for k in keys])
    scaled = v / v.sum() * total
    base = np.floor(scaled)
    rest = int(total - base.sum())
    base[np.argsort(-(scaled - base))[:rest]] += 1
    return {k: float(x) for k, x in zip(keys, base, strict=True)}


def _margins(
    codes: list[str], pop: np.ndarray, urban_share: np.ndarray
) -> dict[str, dict[str, float]]:
    total = int(pop.sum())
    urban = float((pop * urban_share).sum())
    return {
        "subregion": _int_margin(dict(zip(codes, pop, strict=True)), total),
        "urban_rural": _int_margin({"urban": urban, "rural": total - urban}, total),
        "sex": _int_margin({"male": SEX_SHARES[0], "female": SEX_SHARES[1]}, total),
        "age_band": _int_margin(dict(zip(AgeBand.values, AGE_SHARES, strict=True)), total),
    }


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


def load(ctx: DemoContext) -> None:
    from kepu.survey.tasks import estimate_wave

    association = ctx.data["association"]
    city: Region = ctx.data["city"]
    admin = ctx.user("admin", label="超级管理员", full_name="系统管理员", superuser=True)
    counties = list(city.children.filter(level=Level.COUNTY).order_by("code"))
    plan_target = (
        Target.objects.filter(plan__owner=association, unit="%", value=13).order_by("pk").first()
    )
    for spec in WAVES:
        title = f"{spec.year}年{city.name}公民科学素质调查 (演示数据)"
        if Wave.objects.filter(region=city, year=spec.year, title=title).exists():
            continue
        wave = wave_create(
            user=admin,
            owner=association,
            fields=WaveFields(
                title=title,
                kind=WaveKind.LOCAL,
                year=spec.year,
                region=city,
                notes="平台生成的虚构样本, 仅用于演示。",
            ),
        )
        wave_target_add(user=admin, wave=wave, year=2025, rate=12, label="2025年达到12%")
        wave_target_add(
            user=admin,
            wave=wave,
            year=2026,
            rate=13,
            label="2026年底达到13%以上",
            plan_target=plan_target,
        )
        rows, margins = synth_city(counties, spec, wave.questionnaire)
        respondents_import(
            user=admin, wave=wave, name=f"{spec.year}年调查数据.csv", data=_csv_bytes(rows)
        )
        margins_replace(
            user=admin,
            wave=wave,
            rows=[(v, c, str(p)) for v, cats in margins.items() for c, p in cats.items()],
        )
        run = run_create(user=admin, wave=wave)
        estimate_wave.call(run.pk)
        run.refresh_from_db()
        rate = run.estimates.filter(measure="rate", variable="overall").first()
        shown = f"{rate.estimate:.2%}" if rate and rate.estimate is not None else run.message
        ctx.notes.append(
            f"演示监测调查「{wave.title}」: {len(rows) - 1} 名受访者, 具备科学素质的比例 {shown}。"
        )
