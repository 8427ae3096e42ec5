from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kepu.notifications"
    verbose_name = "通知与提醒"
