from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "kepu.campaigns"
    label = "campaigns"
    verbose_name = "科普活动"

    def ready(self) -> None:
        from kepu.audit.signals import register

        for model in (
            "Campaign",
            "Quota",
            "Activity",
            "ActivityPhoto",
            "AwardCriterion",
            "Nomination",
        ):
            register(f"campaigns.{model}")
