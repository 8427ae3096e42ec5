from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed

from kepu.core import throttle

#: Browser date pickers (``<input type="date">``) accept only ISO values: a widget without
#: this format renders a prefilled date as "2026/01/01", which the browser drops, so a saved
#: date disappears from an edit form (or blocks it when required). Use these, never a bare
#: ``forms.DateInput(attrs={"type": "date"})``. (Django copies a widget per field.)
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "用户名或密码错误。",
        "inactive": "该账号已停用。",
        "locked": "登录失败次数过多, 请 %(minutes)s 分钟后再试。",
    }

    def clean(self):
        username = (self.data.get("username") or "").strip()
        if not username:
            return super().clean()
        ip = throttle.client_ip(self.request) if self.request else None
        attempt = throttle.attempt_begin(username=username, ip=ip)
        if attempt is None:
            # Refused before the password is checked: still a failure for the audit log.
            user_login_failed.send(
                sender=throttle.__name__,
                credentials={"username": username},
                request=self.request,
                locked=True,
            )
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": throttle.lock_minutes()},
            )
        # A wrong password or an inactive account raises here; the attempt stays counted.
        cleaned = super().clean()
        throttle.attempt_succeeded(attempt)
        return cleaned


def form_errors(form: forms.Form, exc: Exception) -> None:
    """Attach a service's ValidationError to ``form``: a stale edit shows the other person's
    values (``VersionedForm.stale``), field errors go beside their fields, the rest on top."""
    from kepu.core.versioning import StaleEditError

    if isinstance(exc, StaleEditError):
        form.stale(exc)  # type: ignore[attr-defined]
    elif hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():  # type: ignore[attr-defined]
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)  # type: ignore[attr-defined]
