from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "kepu.progress"
    verbose_name = "进展填报与督办"

    def ready(self) -> None:
        from kepu.audit.signals import register

        for label in (
            "progress.ReportingRound",
            "progress.Report",
            "progress.ReportProgress",
            "progress.ReportEvidence",
            "progress.TaskTermination",
            "progress.OfficeSetting",
            "progress.Notice",
        ):
            register(label)
