from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kepu.core.pagination import paginate
from kepu.notifications.models import Notification
from kepu.notifications.services import notification_mark_read


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    qs = Notification.objects.for_user(request.user).order_by("-created_at", "-pk")
    return render(request, "notifications/inbox.html", {"page": paginate(request, qs)})


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
    n = notification_mark_read(user=request.user, notification_ids=ids or None)
    messages.success(request, f"已将 {n} 条通知标为已读。")
    return redirect("notifications:inbox")
