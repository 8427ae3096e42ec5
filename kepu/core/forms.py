from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from kepu.core import throttle


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "用户名或密码错误。",
        "inactive": "该账号已停用。",
        "locked": "登录失败次数过多, 请 %(minutes)s 分钟后再试。",
    }

    def clean(self):
        from django.conf import settings

        username = (self.data.get("username") or "").strip()
        ip = throttle.client_ip(self.request) if self.request else None
        if username and throttle.is_locked(username, ip):
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": settings.KEPU_LOGIN_WINDOW_SECONDS // 60},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                throttle.record_failure(username, ip)
            raise
        throttle.clear_failures(username)
        return cleaned
