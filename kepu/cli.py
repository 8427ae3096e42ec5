"""The ``kepu`` command.

Pure commands (``plan parse``, ``survey estimate``, ``survey synth``) run without
setting Django up, so they start fast and work without a database.  Everything
else is forwarded to Django's management commands.
"""

from __future__ import annotations

import os
import sys

USAGE = """\
用法: kepu <命令> [参数]

命令:
  serve [ADDR:PORT]        启动开发服务器 (默认 127.0.0.1:8000)
  setup                    迁移数据库并加载演示数据 (幂等)
  demo                     加载演示数据 (幂等)
  regions import [...]     导入全国行政区划 (幂等)
  plan parse FILE [--json] 解析政策文件, 输出结构与任务台账
  campaign parse FILE [--json]  解析科普日/科普月等活动方案 (时间、填报窗口、场次要求、汇总表列)
  campaign recount [--campaign ID] [--check]  重新统计公众平台的已发布活动数
  registry recount [--check]   重新统计志愿服务队的在册人数与年度服务时长
  statistics recount [--collection ID]  按已通过的报表重新汇总科普统计调查的合计
  survey estimate DATA ... 素质调查设计估计 (见 kepu survey estimate --help)
  survey synth --n N --out DIR   生成合成调查样本
  worker [参数]            运行后台任务进程 (异常退出时自动重启; 参数见 kepu manage kepu_worker --help)
  remind [--date D]        发送填报截止提醒与待发邮件 (可每隔几分钟运行, 不重复发送)
  ledger parse FILE.xlsx [--json]  解析 Excel 任务台账 (不需要数据库)
  orgs import FILE.xlsx (--as USER | --office OFFICE)   批量导入组织
  users import FILE.xlsx (--as USER | --office OFFICE) --out LINKS.xlsx   批量导入用户
  bench seed --scale national|province|demo   生成全国规模的基准测试数据
  manage ...               任意 Django 管理命令
"""


def _django(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kepu", *argv])
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    cmd, rest = args[0], args[1:]
    if cmd == "plan" and rest[:1] == ["parse"]:
        from kepu.plans.parsing.cli import main as parse_main

        return parse_main(rest[1:])
    if cmd == "campaign" and rest[:1] == ["parse"]:
        from kepu.campaigns.parsing.cli import main as campaign_main

        return campaign_main(rest[1:])
    if cmd == "campaign" and rest[:1] == ["recount"]:
        return _django(["campaign_recount", *rest[1:]])
    if cmd == "registry" and rest[:1] == ["recount"]:
        return _django(["registry_recount", *rest[1:]])
    if cmd == "statistics" and rest[:1] == ["recount"]:
        return _django(["statistics_recount", *rest[1:]])
    if cmd == "survey" and rest[:1] in (["estimate"], ["synth"]):
        from kepu.survey.engine.cli import main as survey_main

        return survey_main(rest)
    if cmd == "serve":
        return _django(["runserver", *(rest or ["127.0.0.1:8000"])])
    if cmd == "manage":
        return _django(rest)
    if cmd == "worker":
        from kepu.core.supervisor import supervise, worker_command

        return supervise(worker_command(rest))
    if cmd == "regions":
        sub = rest[:1]
        if sub == ["import"]:
            return _django(["import_regions", *rest[1:]])
        print("用法: kepu regions import [--source DIR] [--province CODE]", file=sys.stderr)
        return 2
    if cmd == "remind":
        return _django(["kepu_remind", *rest])
    if cmd == "ledger" and rest[:1] == ["parse"]:
        from kepu.plans.parsing.ledger_cli import main as ledger_main

        return ledger_main(rest[1:])
    if cmd in {"orgs", "users"} and rest[:1] == ["import"]:
        return _django([f"import_{cmd}", *rest[1:]])
    if cmd == "bench" and rest[:1] == ["seed"]:
        return _django(["kepu_bench_seed", *rest[1:]])
    if cmd in {"setup", "demo"}:
        return _django([f"kepu_{cmd}", *rest])
    print(f"未知命令: {cmd}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
