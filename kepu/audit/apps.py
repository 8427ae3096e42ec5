from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kepu.audit"
    verbose_name = "审计日志"

    def ready(self) -> None:
        from kepu.audit import signals

        signals.connect()
