from django.core.management import call_command
from django.core.management.base import BaseCommand

from kepu.core.demo import load_demo
from kepu.core.management.commands.kepu_demo import print_logins


class Command(BaseCommand):
    help = "迁移数据库、导入行政区划并加载演示数据 (可重复运行, 保留已有数据)"

    def add_arguments(self, parser):
        parser.add_argument("--no-demo", action="store_true", help="不加载演示数据")

    def handle(self, *args, no_demo=False, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("数据库已迁移。")
        call_command("import_regions", stdout=self.stdout)
        if not no_demo:
            ctx = load_demo()
            self.stdout.write("演示数据已就绪。")
            print_logins(self.stdout, ctx)
