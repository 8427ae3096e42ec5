"""Pages for background jobs: "我的后台任务", a job's status (htmx polling), cancel, download.

Every view reads jobs through the gate (``Job.objects.restrict``): a job of another
office is a 404; a visible job that the user may not cancel is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kepu.core import jobs
from kepu.core.models import Job
from kepu.orgs.scoping import Action

PAGE_SIZE = 25


def _job(request: HttpRequest, pk: int) -> Job:
    jobs.reap_stale_quietly(model=Job)
    return get_object_or_404(
        Job.objects.restrict(request.user, Action.VIEW).select_related("created_by"), pk=pk
    )


def can_cancel(user, job: Job) -> bool:
    """The one who started it, or anyone who may change work of its organisation."""
    if job.created_by_id is not None and job.created_by_id == user.pk:
        return True
    return Job.objects.restrict(user, Action.CHANGE).filter(pk=job.pk).exists()


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs.reap_stale_quietly(model=Job)
    everyone = request.GET.get("scope") == "all"
    qs = Job.objects.restrict(request.user, Action.VIEW).select_related("created_by")
    if not everyone:
        qs = qs.filter(created_by=request.user)
    page = Paginator(qs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/jobs_list.html", {"page": page, "everyone": everyone})


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(
        request,
        "core/job_detail.html",
        {"job": job, "can_cancel": job.is_active and can_cancel(request.user, job)},
    )


@login_required
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(
        request,
        "core/_job_status.html",
        {"job": job, "can_cancel": job.is_active and can_cancel(request.user, job)},
    )


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if not can_cancel(request.user, job):
        raise PermissionDenied("您只能查看该后台任务, 不能取消。")
    if jobs.job_cancel(user=request.user, job=job):
        messages.success(request, "已取消后台任务。")
    else:
        messages.info(request, "该后台任务已经结束, 无需取消。")
    return redirect("jobs:detail", pk=job.pk)


@login_required
def job_download(request: HttpRequest, pk: int) -> FileResponse:
    job = _job(request, pk)
    if job.status != "done" or not job.result:
        raise Http404("没有可下载的结果文件")
    try:
        handle = job.result.open("rb")
    except FileNotFoundError as exc:
        raise Http404("结果文件已不存在") from exc
    return FileResponse(handle, as_attachment=True, filename=job.result_name or "结果")
