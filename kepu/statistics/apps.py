from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "kepu.statistics"
    label = "statistics"
    verbose_name = "科普统计"

    def ready(self) -> None:
        from kepu.audit.signals import register

        for model in ("Catalogue", "Collection", "StatReport", "Population"):
            register(f"statistics.{model}")
