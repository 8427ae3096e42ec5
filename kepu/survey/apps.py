from django.apps import AppConfig


class SurveyConfig(AppConfig):
    name = "kepu.survey"
    verbose_name = "素质监测"

    def ready(self) -> None:
        from kepu.audit.signals import register

        for label in ("survey.Wave", "survey.WaveTarget", "survey.Margin", "survey.EstimationRun"):
            register(label)
