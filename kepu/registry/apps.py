from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "kepu.registry"
    label = "registry"
    verbose_name = "基地与队伍"

    def ready(self) -> None:
        from kepu.audit.signals import register

        for model in (
            "EducationBase",
            "ScoreSheet",
            "BaseReview",
            "Expert",
            "Museum",
            "MuseumReport",
            "VolunteerTeam",
            "Volunteer",
            "ServiceRecord",
        ):
            register(f"registry.{model}")
