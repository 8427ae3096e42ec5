from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kepu.core"
    verbose_name = "平台"

    def ready(self) -> None:
        from kepu.core import (
            checks,  # noqa: F401  (registers the scoping checks)
            signals,
        )

        signals.connect()
