"""A realistic synthetic national literacy-survey sample and matching population margins.

The files ``write_synth`` writes import into the platform as they are (``kepu.survey.
importing`` reads these column names and codes; the codes are in :data:`LABELS`).

Population: adults 18-69 in 31 provinces (GB/T 2260 codes), split urban/rural, with
province populations and urbanisation rates close to the 2020 census.  The sample is a
stratified (province x urban/rural) two-stage cluster sample with differential
non-response (too many women, older and less educated respondents), so raking to the
population margins changes the estimates.  About 12-15% are "literate" (score >= 70),
higher in developed provinces, in towns and with more education.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SurveyError

__all__ = ["GROUPS", "PROVINCES", "SynthSample", "synth", "write_synth"]

# code, name, population (10k, 2020 census, rounded), urbanisation rate
PROVINCES: list[tuple[int, str, int, float]] = [
    (11, "北京", 2189, 0.875), (12, "天津", 1387, 0.847), (13, "河北", 7461, 0.601),
    (14, "山西", 3492, 0.625), (15, "内蒙古", 2405, 0.675), (21, "辽宁", 4259, 0.721),
    (22, "吉林", 2407, 0.626), (23, "黑龙江", 3185, 0.656), (31, "上海", 2487, 0.893),
    (32, "江苏", 8475, 0.734), (33, "浙江", 6457, 0.722), (34, "安徽", 6103, 0.583),
    (35, "福建", 4154, 0.688), (36, "江西", 4519, 0.604), (37, "山东", 10153, 0.631),
    (41, "河南", 9937, 0.554), (42, "湖北", 5775, 0.629), (43, "湖南", 6644, 0.588),
    (44, "广东", 12601, 0.742), (45, "广西", 5013, 0.542), (46, "海南", 1008, 0.603),
    (50, "重庆", 3205, 0.695), (51, "四川", 8367, 0.567), (52, "贵州", 3856, 0.532),
    (53, "云南", 4721, 0.501), (54, "西藏", 365, 0.357), (61, "陕西", 3953, 0.627),
    (62, "甘肃", 2502, 0.522), (63, "青海", 592, 0.601), (64, "宁夏", 720, 0.650),
    (65, "新疆", 2585, 0.565),
]  # fmt: skip
PROVINCE_NAMES = {code: name for code, name, _, _ in PROVINCES}
# The key groups of the adult literacy survey, as the platform records them (code 1 was
# "青少年" once; pupils are not in an adult 18-69 sample, so it is now urban workers
# outside industry, the survey's 城镇劳动者).
GROUPS = {1: "城镇劳动者", 2: "农民", 3: "产业工人", 4: "老年人", 5: "领导干部和公务员", 6: "其他"}
SEX = {1: "男", 2: "女"}
AGE_BANDS = {1: "18-29岁", 2: "30-39岁", 3: "40-49岁", 4: "50-59岁", 5: "60-69岁"}
EDUCATION = {1: "小学及以下", 2: "初中", 3: "高中/中专", 4: "大专", 5: "本科及以上"}
LABELS = {
    "province": PROVINCE_NAMES,
    "group": GROUPS,
    "sex": SEX,
    "age_band": AGE_BANDS,
    "education": EDUCATION,
    "urban": {0: "乡村", 1: "城镇"},
}
MARGIN_VARIABLES = ("sex", "age_band", "education", "urban", "province")

_ADULT_SHARE = 0.72
_AGE_URBAN = np.array([0.24, 0.22, 0.21, 0.19, 0.14])
_AGE_RURAL = np.array([0.17, 0.16, 0.20, 0.24, 0.23])
_EDU_CUTS = np.array([-0.35, 0.75, 1.55, 2.15])


def _ndtr(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def _edu_probs(urban: np.ndarray, dev: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """P(education | stratum, age band): array (strata, 5 ages, 5 levels)."""
    mu = 0.6 + 0.8 * urban[:, None] + 0.35 * dev[:, None] - 0.38 * np.arange(5)[None, :] - shift
    cdf = _ndtr(_EDU_CUTS[None, None, :] - mu[:, :, None])
    cdf = np.concatenate([np.zeros((*cdf.shape[:2], 1)), cdf, np.ones((*cdf.shape[:2], 1))], axis=2)
    return np.diff(cdf, axis=2)


class SynthSample:
    """Columns (``dict[str, np.ndarray]``) plus population margins."""

    def __init__(self, columns: dict[str, np.ndarray], margins: dict[str, dict[int, int]]):
        self.columns = columns
        self.margins = margins


def _draw(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows sum to 1); returns 0-based codes."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cum[:, -1]
    return (u[:, None] > cum).sum(axis=1)


def synth(n: int = 10_000, *, seed: int = 20250101, n_psu: int | None = None) -> SynthSample:
    if n < 500:
        raise SurveyError("合成样本量至少为 500")
    rng = np.random.default_rng(seed)
    codes = np.array([p[0] for p in PROVINCES])
    pop = np.array([p[2] for p in PROVINCES], dtype=float) * 1e4 * _ADULT_SHARE
    urb = np.array([p[3] for p in PROVINCES])
    dev_p = (urb - urb.mean()) / urb.std()
    # strata: province x urban (urban=1 first within province)
    st_prov = np.repeat(np.arange(31), 2)
    st_urban = np.tile([1, 0], 31)
    N_h = np.round(pop[st_prov] * np.where(st_urban == 1, urb[st_prov], 1 - urb[st_prov]))
    H = 62
    stratum_code = codes[st_prov] * 10 + st_urban
    dev_h = dev_p[st_prov]

    # sample allocation: half equal per province, half proportional, split by urbanisation
    share = 0.5 / 31 + 0.5 * pop / pop.sum()
    n_prov = share * n
    n_h_f = n_prov[st_prov] * np.where(st_urban == 1, urb[st_prov], 1 - urb[st_prov])
    n_h = np.maximum(np.floor(n_h_f).astype(int), 4)
    n_h[np.argmax(n_h)] += n - n_h.sum()
    if n_psu is None:
        n_psu = int(min(750, max(2 * H, n // 530)))
    m_h = np.maximum(2, np.round(n_psu * n_h / n).astype(int))
    m_h = np.minimum(m_h, n_h // 2)
    # respondents per PSU: roughly equal with some variation (each PSU >= 1)
    psu_of_row = []
    row_stratum = []
    for h in range(H):
        raw = rng.gamma(8.0, size=m_h[h])
        alloc = np.floor(raw / raw.sum() * (n_h[h] - m_h[h])).astype(int) + 1
        alloc[np.argmax(alloc)] += n_h[h] - alloc.sum()
        psu_of_row.append(np.repeat(stratum_code[h] * 1000 + np.arange(1, m_h[h] + 1), alloc))
        row_stratum.append(np.full(n_h[h], h))
    psu = np.concatenate(psu_of_row)
    sh = np.concatenate(row_stratum)
    urban = st_urban[sh]

    # respondents, with non-response bias (women, the old and less educated answer more)
    sex = np.where(rng.random(n) < 0.46, 1, 2)
    age_pop = np.where(urban[:, None] == 1, _AGE_URBAN[None, :], _AGE_RURAL[None, :])
    age_s = age_pop * np.array([0.8, 0.9, 1.0, 1.1, 1.25])[None, :]
    age = _draw(rng, age_s) + 1
    edu_s = _edu_probs(st_urban.astype(float), dev_h, shift=0.18)  # (H, 5, 5)
    edu = _draw(rng, edu_s[sh, age - 1]) + 1

    # key groups
    u = rng.random(n)
    group = np.full(n, 6)
    rural_work = np.array([0.62, 0.86, 0.89, 0.97])  # farmer, worker, cadre, other thresholds
    urban_work = np.array([0.05, 0.50, 0.60, 1.0])
    thr = np.where(urban[:, None] == 1, urban_work[None, :], rural_work[None, :])
    work = (u[:, None] > thr).sum(axis=1)  # 0 farmer,1 worker,2 cadre,3+ other
    group = np.select([work == 0, work == 1, work == 2], [2, 3, 5], 6)
    cadre_boost = (edu >= 4) & (rng.random(n) < 0.08)
    group = np.where(cadre_boost, 5, group)
    # urban workers outside industry and offices (one draw per row, as before)
    urban_labour = (urban == 1) & (group == 6) & (rng.random(n) < 0.7)
    group = np.where(urban_labour, 1, group)
    elderly = (age == 5) & (rng.random(n) < 0.85)
    group = np.where(elderly, 4, group)

    # score: province, urban, education, age, PSU random effect, individual noise
    prov_eff = 1.2 * dev_p + rng.normal(0, 0.8, 31)
    prov_eff[codes == 11] += 3.0
    prov_eff[codes == 31] += 3.0
    psu_codes, psu_idx = np.unique(psu, return_inverse=True)
    psu_eff = rng.normal(0, 3.5, len(psu_codes))
    edu_eff = np.array([-13.0, -6.0, 1.5, 8.0, 13.0])
    age_eff = np.array([3.0, 2.5, 0.0, -3.0, -6.5])
    latent = (
        53.0
        + prov_eff[st_prov[sh]]
        + 3.0 * urban
        + edu_eff[edu - 1]
        + age_eff[age - 1]
        + psu_eff[psu_idx]
        + rng.normal(0, 12.5, n)
    )
    score = np.clip(np.round(latent), 0, 100).astype(np.int64)
    literate = (score >= 70).astype(np.int64)

    # design weights: stratum total / sample size, times PSU and household factors
    f = np.exp(rng.normal(0, 0.15, len(psu_codes)))[psu_idx] * rng.uniform(0.7, 1.5, n)
    base = (N_h / n_h)[sh] * f
    tot = np.bincount(sh, weights=base, minlength=H)
    weight = np.round(base * (N_h / tot)[sh], 4)

    order = np.lexsort((psu, sh))  # rows grouped by stratum and PSU
    cols: dict[str, np.ndarray] = {
        "id": np.arange(1, n + 1, dtype=np.int64),
        "province": codes[st_prov[sh]][order],
        "urban": urban[order].astype(np.int64),
        "stratum": stratum_code[sh][order],
        "psu": psu[order].astype(np.int64),
        "weight": weight[order],
        "sex": sex[order].astype(np.int64),
        "age_band": age[order].astype(np.int64),
        "education": edu[order].astype(np.int64),
        "group": group[order].astype(np.int64),
        "score": score[order],
        "literate": literate[order],
    }

    # population margins (integers, every margin sums to the same total)
    total = int(N_h.sum())
    m_sex = np.array([0.512, 0.488]) * total
    age_tot = (N_h[:, None] * np.where(st_urban[:, None] == 1, _AGE_URBAN, _AGE_RURAL)).sum(0)
    edu_pop = _edu_probs(st_urban.astype(float), dev_h)
    age_h = np.where(st_urban[:, None] == 1, _AGE_URBAN, _AGE_RURAL)
    edu_tot = (N_h[:, None, None] * age_h[:, :, None] * edu_pop).sum(axis=(0, 1))
    urb_tot = np.array([N_h[st_urban == 0].sum(), N_h[st_urban == 1].sum()])
    prov_tot = np.bincount(st_prov, weights=N_h, minlength=31)
    margins = {
        "sex": _int_margin([1, 2], m_sex, total),
        "age_band": _int_margin([1, 2, 3, 4, 5], age_tot, total),
        "education": _int_margin([1, 2, 3, 4, 5], edu_tot, total),
        "urban": _int_margin([0, 1], urb_tot, total),
        "province": _int_margin(codes.tolist(), prov_tot, total),
    }
    return SynthSample(cols, margins)


def _int_margin(keys: list[int], values: np.ndarray, total: int) -> dict[int, int]:
    scaled = values / values.sum() * total
    base = np.floor(scaled).astype(np.int64)
    rem = total - int(base.sum())
    base[np.argsort(-(scaled - base))[:rem]] += 1
    return {int(k): int(v) for k, v in zip(keys, base, strict=True)}


def write_synth(
    n: int, out_dir: str | Path, *, seed: int = 20250101, fmt: str = "csv"
) -> dict[str, Any]:
    """Write ``sample.csv`` (or ``.parquet``) and ``margins/<var>.csv`` into ``out_dir``."""
    sample = synth(n, seed=seed)
    out = Path(out_dir)
    (out / "margins").mkdir(parents=True, exist_ok=True)
    import pyarrow as pa

    table = pa.table(sample.columns)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        data_path = out / "sample.parquet"
        pq.write_table(table, data_path)
    else:
        import pyarrow.csv as pacsv

        data_path = out / "sample.csv"
        pacsv.write_csv(table, data_path, pacsv.WriteOptions(quoting_style="none"))
    margin_paths = {}
    for var, totals in sample.margins.items():
        path = out / "margins" / f"{var}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            wr = csv.writer(fh)
            wr.writerow([var, "Freq"])
            for k, v in totals.items():
                wr.writerow([k, v])
        margin_paths[var] = str(path)
    lit = sample.columns["literate"]
    w = sample.columns["weight"]
    return {
        "data": str(data_path),
        "margins": margin_paths,
        "n": int(n),
        "psu": len(np.unique(sample.columns["psu"])),
        "strata": len(np.unique(sample.columns["stratum"])),
        "weighted_literate": float(np.dot(lit, w) / w.sum()),
    }
