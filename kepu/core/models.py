from django.db import models


class LoginCounter(models.Model):
    """Failed sign-ins counted per key within a window (see kepu.core.throttle).

    Keys: ``ip:<address>`` (one client address, every account), ``user:<username>`` (one
    account, every address) and ``pair:<username>|<address>``.  One row per key, changed
    only under a row lock, so parallel attempts are counted one after the other.
    """

    key = models.CharField("键", max_length=300, unique=True)
    failures = models.PositiveIntegerField("失败次数", default=0)
    window_start = models.DateTimeField("计数开始", db_index=True)

    class Meta:
        verbose_name = "登录失败计数"
        verbose_name_plural = "登录失败计数"

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
