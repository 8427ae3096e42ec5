"""Reading survey tables and margin files into plain numpy columns.

``load_table`` returns ``dict[str, np.ndarray]``: integer columns stay ``int64``, numeric
columns with gaps become ``float64`` with NaN, text columns become ``object`` arrays of
``str``.  CSV and Parquet are read with pyarrow (multi-threaded); XLSX with openpyxl.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SurveyError

__all__ = ["canonical_value", "factorize", "load_margins", "load_table", "read_header"]

_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def read_header(path: str | Path) -> list[str]:
    """Column names of a table file without reading its body."""
    p = Path(path)
    if not p.exists():
        raise SurveyError(f"找不到数据文件: {p}")
    ext = _suffix(p)
    if ext in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        return list(pq.read_schema(p).names)
    if ext in {".xlsx", ".xlsm"}:
        return list(_read_xlsx(p, header_only=True).keys())
    with open(p, "rb") as fh:
        first = fh.readline()
    text = _decode(first)
    return next(csv.reader([text.strip("\r\n")]), [])


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise SurveyError("无法识别文件编码 (请使用 UTF-8 或 GB18030)")


def load_table(path: str | Path, columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Read CSV, Parquet or XLSX into ``{column: numpy array}``.

    ``columns`` restricts the read to those columns (faster); a missing column is an error.
    """
    p = Path(path)
    if not p.exists():
        raise SurveyError(f"找不到数据文件: {p}")
    ext = _suffix(p)
    wanted = list(dict.fromkeys(columns)) if columns is not None else None
    if wanted is not None:
        header = read_header(p)
        missing = [c for c in wanted if c not in header]
        if missing:
            raise SurveyError(f"数据中找不到列: {', '.join(missing)} (现有列: {', '.join(header)})")
    if ext in {".xlsx", ".xlsm"}:
        table = _read_xlsx(p)
        return {c: table[c] for c in (wanted or list(table))}
    if ext in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        arrow = pq.read_table(p, columns=wanted)
    else:
        arrow = _read_csv_arrow(p, wanted)
    return {name: _arrow_to_numpy(arrow.column(name)) for name in arrow.column_names}


def _read_csv_arrow(p: Path, wanted: list[str] | None):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    convert = pacsv.ConvertOptions(include_columns=wanted) if wanted else pacsv.ConvertOptions()
    try:
        return pacsv.read_csv(p, convert_options=convert)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if "UTF8" not in str(exc).upper() and not isinstance(exc, UnicodeDecodeError):
            raise SurveyError(f"无法读取 CSV 文件 {p.name}: {exc}") from None
    try:  # GBK / GB18030 exports from Excel
        return pacsv.read_csv(
            p, read_options=pacsv.ReadOptions(encoding="gb18030"), convert_options=convert
        )
    except pa.ArrowInvalid as exc:
        raise SurveyError(f"无法读取 CSV 文件 {p.name}: {exc}") from None


def _arrow_to_numpy(col) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    typ = col.type
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ):
        if col.null_count:
            return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
        arr = col.to_numpy()
        if arr.dtype == np.bool_:
            return arr.astype(np.int64)
        if arr.dtype.kind in "iu" and arr.dtype != np.int64:
            return arr.astype(np.int64)
        return arr
    if pa.types.is_dictionary(typ):
        col = pc.cast(col, pa.string())
    arr = col.to_numpy(zero_copy_only=False)
    out = np.empty(arr.shape[0], dtype=object)
    out[:] = [None if v is None else str(v) for v in arr]
    return out


def _read_xlsx(p: Path, header_only: bool = False) -> dict[str, np.ndarray]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds
        raise SurveyError(f"无法读取 Excel 文件 {p.name}: {exc}") from None
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise SurveyError(f"Excel 文件 {p.name} 为空")
        names = [str(h).strip() if h is not None else f"col{i + 1}" for i, h in enumerate(header)]
        if header_only:
            return {n: np.empty(0) for n in names}
        cols: list[list[Any]] = [[] for _ in names]
        for row in rows:
            if row is None or all(v is None for v in row):
                continue
            for j in range(len(names)):
                cols[j].append(row[j] if j < len(row) else None)
    finally:
        wb.close()
    return {n: _list_to_numpy(vals) for n, vals in zip(names, cols, strict=True)}


def _list_to_numpy(values: list[Any]) -> np.ndarray:
    nonnull = [v for v in values if v is not None and v != ""]
    if nonnull and all(isinstance(v, bool | int | float) for v in nonnull):
        if len(nonnull) == len(values) and all(
            isinstance(v, bool | int) or float(v).is_integer() for v in nonnull
        ):
            return np.asarray([int(v) for v in values], dtype=np.int64)
        return np.asarray(
            [np.nan if v is None or v == "" else float(v) for v in values], dtype=np.float64
        )
    out = np.empty(len(values), dtype=object)
    out[:] = [None if v is None else str(v) for v in values]
    return out


def canonical_value(value: Any) -> Any:
    """Canonical form used to match data categories with margin categories.

    Integral numbers (``3``, ``3.0``, ``"3"``, ``np.int64(3)``) all become ``int``; other
    numbers become ``float``; text is stripped.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return value
    text = str(value).strip()
    if _INT_RE.match(text):
        return int(text)
    if _FLOAT_RE.match(text):
        f = float(text)
        return int(f) if f.is_integer() else f
    return text


def python_value(value: Any) -> Any:
    """Plain Python scalar (ints stay ints) for JSON and dict keys."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``0..K-1`` (intp) and the sorted unique values.

    Small-range integers use a lookup table (no sort), which is several times faster than
    ``np.unique`` on large columns.
    """
    values = np.asarray(values)
    n = values.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.intp), values[:0]
    if values.dtype.kind in "iub":
        v = values.astype(np.int64, copy=False)
        lo = int(v.min())
        hi = int(v.max())
        span = hi - lo + 1
        if span <= max(1 << 16, 4 * n):
            shifted = v - lo if lo else v
            present = np.bincount(shifted, minlength=span) > 0
            uniques = np.flatnonzero(present).astype(np.int64) + lo
            lut = np.cumsum(present, dtype=np.intp) - 1
            return lut[shifted], uniques
    if values.dtype.kind == "O":
        if any(v is None for v in values):
            raise SurveyError("分组或分层变量含缺失值")
        values = values.astype(str)
    uniques, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.intp, copy=False).reshape(-1), uniques


def load_margins(path: str | Path, variable: str | None = None) -> dict[Any, float]:
    """Read a margins file: two columns, the category and ``Freq`` (population total)."""
    p = Path(path)
    if not p.exists():
        raise SurveyError(f"找不到边际文件: {p}")
    if _suffix(p) in {".xlsx", ".xlsm", ".parquet", ".pq"}:
        table = load_table(p)
        names = list(table)
        rows: Iterable[Sequence[Any]] = zip(*(table[n] for n in names), strict=True)
    else:
        text = _decode(p.read_bytes())
        reader = list(csv.reader(text.splitlines()))
        if not reader:
            raise SurveyError(f"边际文件为空: {p}")
        names, rows = [h.strip() for h in reader[0]], reader[1:]
    if "Freq" not in names:
        raise SurveyError(f"边际文件 {p.name} 缺少 Freq 列 (应为两列: 类别, Freq)")
    fi = names.index("Freq")
    others = [i for i in range(len(names)) if i != fi]
    if variable is not None and variable in names:
        vi = names.index(variable)
    elif len(others) == 1:
        vi = others[0]
    else:
        raise SurveyError(f"边际文件 {p.name} 应恰好有两列: 类别和 Freq")
    out: dict[Any, float] = {}
    for row in rows:
        if not row or all(str(v).strip() == "" for v in row):
            continue
        key = canonical_value(row[vi])
        try:
            freq = float(row[fi])
        except (TypeError, ValueError):
            raise SurveyError(
                f"边际文件 {p.name} 中类别 {key} 的 Freq 不是数值: {row[fi]!r}"
            ) from None
        if key in out:
            raise SurveyError(f"边际文件 {p.name} 中类别 {key} 重复出现")
        out[key] = freq
    if not out:
        raise SurveyError(f"边际文件为空: {p}")
    return out
