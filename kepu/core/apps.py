from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kepu.core"
    verbose_name = "平台"
