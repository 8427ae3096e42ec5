from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kepu.core"
    verbose_name = "平台"

    def ready(self) -> None:
        from kepu.audit.signals import register
        from kepu.core import (
            checks,  # noqa: F401  (registers the scoping checks)
            signals,
        )

        signals.connect()
        # Starting and cancelling background work are user writes (progress is not:
        # it is written with update(), which the audit signals do not see).
        for label in ("core.Job", "survey.EstimationRun"):
            register(label)
