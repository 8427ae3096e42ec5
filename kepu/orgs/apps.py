from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "kepu.orgs"
    verbose_name = "组织与成员"
