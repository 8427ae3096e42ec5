from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "kepu.plans"
    verbose_name = "规划与任务台账"

    def ready(self) -> None:
        from kepu.audit.signals import register

        for label in (
            "plans.Plan",
            "plans.Section",
            "plans.Task",
            "plans.TaskUnit",
            "plans.Target",
        ):
            register(label)
