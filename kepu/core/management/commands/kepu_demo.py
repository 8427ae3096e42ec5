from django.core.management.base import BaseCommand

from kepu.core.demo import load_demo


def print_logins(stdout, ctx) -> None:
    if ctx.logins:
        stdout.write("\n演示账号 (密码只显示这一次, 请妥善保存):")
        for username, password, label in ctx.logins:
            stdout.write(f"  {username:<14} {password:<14} {label}")
    else:
        stdout.write("演示账号已存在, 密码未改变 (如需重新生成: kepu demo --reset-passwords)。")
    for note in ctx.notes:
        stdout.write(note)


class Command(BaseCommand):
    help = "加载演示数据 (可重复运行)"

    def add_arguments(self, parser):
        parser.add_argument("--reset-passwords", action="store_true", help="为演示账号生成新密码")

    def handle(self, *args, reset_passwords=False, **options):
        ctx = load_demo(reset_passwords=reset_passwords)
        self.stdout.write("演示数据已就绪。")
        print_logins(self.stdout, ctx)
