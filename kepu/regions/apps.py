from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "kepu.regions"
    verbose_name = "行政区划"
