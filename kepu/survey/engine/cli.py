"""``kepu survey estimate`` and ``kepu survey synth``.

The contract (flags, JSON keys) is used by acceptance checks: keep it stable.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import re
import sys
import unicodedata
from typing import Any, NoReturn

from .errors import SurveyError

ESTIMATE_USAGE = """\
kepu survey estimate DATA --y COL --weight COL [--strata COL] [--psu COL]
                     [--rake VAR=MARGINS.csv ...] [--by COL[,COL...] ...] [--json | --csv]"""


# argparse's own messages, in Chinese (the patterns are argparse's wording).
_ARGPARSE_MESSAGES = (
    (re.compile(r"the following arguments are required: (.+)"), "缺少必需的参数: {0}"),
    (re.compile(r"argument (\S+): expected one argument"), "参数 {0} 需要一个值"),
    (re.compile(r"argument (\S+): expected at least one argument"), "参数 {0} 至少需要一个值"),
    (
        re.compile(r"argument (\S+): not allowed with argument (\S+)"),
        "参数 {0} 不能与 {1} 同时使用",
    ),
    (re.compile(r"argument (\S+): invalid (\w+) value: (.+)"), "参数 {0} 的值无效: {2}"),
    (
        re.compile(r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)"),
        "参数 {0} 的取值 {1} 无效, 可选: {2}",
    ),
    (re.compile(r"unrecognized arguments: (.+)"), "无法识别的参数: {0}"),
)


def _chinese(message: str) -> str:
    for pattern, template in _ARGPARSE_MESSAGES:
        m = pattern.fullmatch(message.strip())
        if m:
            return template.format(*m.groups())
    return message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # Chinese message, exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"参数错误: {_chinese(message)}", file=sys.stderr)
        raise SystemExit(2)


def _estimate_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="kepu survey estimate",
        usage=ESTIMATE_USAGE,
        description="按复杂抽样设计估计比例或均值 (与 R survey 包一致)",
    )
    p.add_argument("data", help="数据文件: CSV / XLSX / Parquet")
    p.add_argument("--y", required=True, help="要估计的变量 (0/1 变量估计比例, 其他估计均值)")
    p.add_argument("--weight", required=True, help="设计权数列 (必须 > 0)")
    p.add_argument("--strata", help="分层变量列")
    p.add_argument("--psu", help="初级抽样单元 (PSU) 列")
    p.add_argument("--nest", action="store_true", help="PSU 编号只在层内唯一 (R 的 nest=TRUE)")
    p.add_argument(
        "--lonely-psu",
        default="fail",
        choices=["fail", "certainty", "remove", "adjust", "average"],
        help="只有一个 PSU 的层的处理方式 (同 R 的 survey.lonely.psu, 默认 fail)",
    )
    p.add_argument(
        "--rake",
        action="append",
        default=[],
        metavar="VAR=MARGINS.csv",
        help="按总体边际加权 (可重复)",
    )
    p.add_argument("--bounds", metavar="LO,HI", help="加权调整系数 g 的上下限 (R 的 bounds)")
    p.add_argument("--maxit", type=int, help="加权最大迭代次数")
    p.add_argument("--tol", type=float, default=1e-10, help="加权收敛标准: 最大相对边际误差")
    p.add_argument(
        "--by",
        action="append",
        default=[],
        metavar="COL[,COL...]",
        help="分组估计 (可重复; 逗号表示交叉分组)",
    )
    p.add_argument("--na-rm", action="store_true", help="排除 y 缺失的样本")
    p.add_argument(
        "--deff",
        default="srswor",
        choices=["srswor", "replace"],
        help="设计效应的简单随机抽样基准 (默认同 R deff=TRUE)",
    )
    p.add_argument(
        "--ci",
        default="normal",
        choices=["normal", "logit"],
        help="ci_low/ci_high 使用的置信区间 (默认正态)",
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="输出 JSON")
    fmt.add_argument("--csv", action="store_true", help="输出 CSV")
    return p


def _synth_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="kepu survey synth", description="生成合成的全国公民科学素质调查样本和总体边际"
    )
    p.add_argument("--n", type=int, required=True, help="样本量")
    p.add_argument("--out", required=True, help="输出目录")
    p.add_argument("--seed", type=int, default=20250101, help="随机数种子")
    p.add_argument("--format", default="csv", choices=["csv", "parquet"], help="样本文件格式")
    return p


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"estimate", "synth"}:
        print("用法: kepu survey estimate ... | kepu survey synth --n N --out DIR", file=sys.stderr)
        return 2
    try:
        if argv[0] == "synth":
            return _synth(_synth_parser().parse_args(argv[1:]))
        return _estimate(_estimate_parser().parse_args(argv[1:]))
    except SystemExit as exc:
        return int(exc.code or 0)
    except SurveyError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    except OSError as exc:
        print(f"错误: 文件读写失败: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback for users
        if os.environ.get("KEPU_DEBUG"):
            raise
        print(
            f"内部错误: {type(exc).__name__}: {exc} (设置 KEPU_DEBUG=1 查看详情)", file=sys.stderr
        )
        return 3


def _synth(args: argparse.Namespace) -> int:
    from .synth import write_synth

    info = write_synth(args.n, args.out, seed=args.seed, fmt=args.format)
    print(
        f"已生成合成样本: {info['data']} (n={info['n']}, {info['strata']} 层, {info['psu']} 个 PSU)"
    )
    print(f"总体边际: {', '.join(info['margins'].values())}")
    print(f"未加权设计权数下的具备科学素质比例: {info['weighted_literate']:.2%}")
    return 0


def _parse_rake(specs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for spec in specs:
        var, sep, path = spec.partition("=")
        if not sep or not var.strip() or not path.strip():
            raise SurveyError(f"--rake 参数格式应为 变量=边际文件.csv, 现为: {spec}")
        if var.strip() in out:
            raise SurveyError(f"--rake 变量重复: {var}")
        out[var.strip()] = path.strip()
    return out


def _estimate(args: argparse.Namespace) -> int:
    from .design import Design
    from .estimation import estimate
    from .raking import rake
    from .tableio import load_margins, load_table

    rakes = _parse_rake(args.rake)
    by_specs = [tuple(c.strip() for c in b.split(",") if c.strip()) for b in args.by]
    if any(not b for b in by_specs):
        raise SurveyError("--by 不能为空")
    bounds = None
    if args.bounds:
        try:
            lo, hi = (float(x) for x in args.bounds.split(","))
        except ValueError:
            raise SurveyError(f"--bounds 格式应为 下限,上限, 现为: {args.bounds}") from None
        bounds = (lo, hi)
    columns = [args.y, args.weight]
    columns += [c for c in (args.strata, args.psu) if c]
    columns += list(rakes)
    columns += [c for b in by_specs for c in b]
    margins = {var: load_margins(path, var) for var, path in rakes.items()}
    data = load_table(args.data, columns)
    y = data[args.y]
    if y.dtype.kind not in "iufb":
        bad = next((v for v in y if v is not None and not _is_number(v)), None)
        raise SurveyError(f"变量 {args.y} 不是数值型 (例如出现值 {bad!r})")
    design = Design(
        data,
        weights=args.weight,
        strata=args.strata,
        psu=args.psu,
        nest=args.nest,
        lonely_psu=args.lonely_psu,
    )
    raking: dict[str, Any] | None = None
    if margins:
        res = rake(design, margins, bounds=bounds, tol=args.tol, maxit=args.maxit)
        design = res.design
        raking = res.to_dict()
    ests = estimate(design, args.y, by=by_specs, na_rm=args.na_rm, deff=args.deff)
    if args.ci == "logit":
        for e in ests:
            # Both logit bounds come from the same estimate and SE: set or None together.
            if e.logit_ci_low is not None and e.logit_ci_high is not None:
                e.ci_low, e.ci_high = e.logit_ci_low, e.logit_ci_high
    if args.json:
        payload = {
            "variable": args.y,
            "estimates": [_clean(e.to_dict()) for e in ests],
            "raking": _clean(raking),
            "design": _clean(design.summary()),
        }
        print(json.dumps(payload, ensure_ascii=False, indent=1))
    elif args.csv:
        sys.stdout.write(_to_csv(ests, by_specs))
    else:
        print(_to_table(ests, raking, design.summary(), args.y))
    return 0


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def _to_csv(ests, by_specs) -> str:
    by_cols = list(dict.fromkeys(c for b in by_specs for c in b))
    fields = [
        "by",
        *by_cols,
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "logit_ci_low",
        "logit_ci_high",
        "deff",
        "n",
        "df",
        "total_weight",
    ]
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(fields)
    for e in ests:
        d = e.to_dict()
        row = [e.by, *[e.domain.get(c, "") for c in by_cols]]
        for f in fields[1 + len(by_cols) :]:
            v = d[f]
            row.append(
                ""
                if v is None or (isinstance(v, float) and not math.isfinite(v))
                else repr(v)
                if isinstance(v, float)
                else v
            )
        wr.writerow(row)
    return buf.getvalue()


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, w: int, right: bool = False) -> str:
    fill = " " * max(0, w - _width(s))
    return fill + s if right else s + fill


def _domain_label(domain: dict[str, Any]) -> str:
    from .synth import LABELS

    if not domain:
        return "全国"
    parts = []
    for k, v in domain.items():
        name = LABELS.get(k, {}).get(v) if isinstance(v, int) else None
        parts.append(f"{k}={v}" + (f"({name})" if name else ""))
    return " × ".join(parts)


def _to_table(ests, raking, summary, y) -> str:
    lines = [
        f"变量: {y}    样本量: {summary['n']}    层数: {summary['strata']}    PSU 数: {summary['psu']}",
    ]
    if raking:
        lines.append(
            f"加权: {', '.join(raking['variables'])}; 方法 {raking['method']}, "
            f"{raking['iterations']} 次迭代收敛, 最大相对边际误差 {raking['max_error']:.2e}, "
            f"g 范围 [{raking['g_min']:.3f}, {raking['g_max']:.3f}]"
        )
    pct = bool(ests) and ests[0].kind == "proportion"
    head = ["分组", "估计值", "标准误", "95% 置信区间", "设计效应", "样本量"]

    def fmt(v: float | None) -> str:
        if v is None:
            return "-"
        return f"{v * 100:.2f}%" if pct else f"{v:.3f}"

    rows = []
    for e in ests:
        rows.append(
            [
                _domain_label(e.domain),
                fmt(e.estimate),
                fmt(e.se),
                f"[{fmt(e.ci_low)}, {fmt(e.ci_high)}]",
                "-" if e.deff is None else f"{e.deff:.2f}",
                str(e.n),
            ]
        )
    widths = [max(_width(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines.append("  ".join(_pad(h, widths[i], i > 0) for i, h in enumerate(head)))
    lines.append("  ".join("-" * w for w in widths))
    prev_by = None
    for e, r in zip(ests, rows, strict=True):
        if prev_by is not None and e.by != prev_by:
            lines.append("")
        prev_by = e.by
        lines.append("  ".join(_pad(c, widths[i], i > 0) for i, c in enumerate(r)))
    return "\n".join(lines)
