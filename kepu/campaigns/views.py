"""Campaign pages for signed-in users: thin views over services and selectors."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kepu.campaigns import awards, excel, importing, selectors, services
from kepu.campaigns.forms import (
    ActivityForm,
    CampaignForm,
    CampaignUploadForm,
    CompleteForm,
    PhotoForm,
    QuotaFormSet,
    ReopenForm,
    ReviewForm,
    UnpublishForm,
)
from kepu.campaigns.models import (
    Activity,
    ActivityPhoto,
    ActivityType,
    AwardCategory,
    Campaign,
    Nomination,
    Status,
)
from kepu.campaigns.parsing import ParseError, parse_campaign_bytes
from kepu.core.files import DOCUMENT, SPREADSHEET, check_upload, xlsx_response
from kepu.core.forms import form_errors
from kepu.core.importing import DataImportError
from kepu.core.pagination import paginate
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, can
from kepu.orgs.selectors import can_act_for_an_office, office_choices, organisation_match
from kepu.survey import geo

# Above this many activities the summary table is written by a background job.
SUMMARY_JOB_ROWS = 3000


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    return get_object_or_404(selectors.campaign_list(user=request.user), pk=pk)


# --- campaigns -----------------------------------------------------------------------------
@login_required
def campaign_map(request: HttpRequest, pk: int) -> JsonResponse:
    """GeoJSON for the activity form's map picker: the prefecture around ``?region=``
    (an activity's county or township, or the campaign's own region), its counties as
    features. 404 where the map package has no geometry (the typed fields remain)."""
    campaign = _campaign(request, pk)
    region = selectors.map_region(campaign=campaign, code=request.GET.get("region", ""))
    data = geo.region_geojson(region) if region is not None else None
    if region is None or data is None:
        raise Http404("该区域没有地图数据")
    resp = JsonResponse({**data, "region": region.name})
    resp["Cache-Control"] = "private, max-age=3600"
    return resp


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.campaign_list(user=request.user))
    return render(
        request,
        "campaigns/list.html",
        {"page": page, "can_create": can_act_for_an_office(user=request.user)},
    )


def _fields(data: dict[str, Any]) -> services.CampaignFields:
    return services.CampaignFields(
        **{k: data[k] for k in services.CampaignFields.__dataclass_fields__ if k in data}
    )


def _quotas(formset: Any) -> list[services.QuotaFields]:
    return [
        services.QuotaFields(
            who=f.cleaned_data["who"],
            min_count=f.cleaned_data["min_count"],
            kinds=f.cleaned_data["kinds"],
        )
        for f in formset.forms
        if f.cleaned_data.get("who")
    ]


@login_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    owners = office_choices(user=request.user)
    if not owners:
        raise PermissionDenied("只有办公室可以创建科普活动。")
    form = CampaignForm(request.POST or None, owners=owners)
    quotas = QuotaFormSet(request.POST or None, prefix="q")
    if request.method == "POST" and form.is_valid() and quotas.is_valid():
        try:
            campaign = services.campaign_create(
                user=request.user,
                owner_id=form.cleaned_data["owner"],
                fields=_fields(form.cleaned_data),
                quotas=_quotas(quotas),
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"已创建「{campaign.title}」。")
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(
        request, "campaigns/form.html", {"form": form, "quotas": quotas, "title": "新建科普活动"}
    )


def _draft_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "campaign-drafts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@login_required
def campaign_import(request: HttpRequest) -> HttpResponse:
    """Upload a campaign plan → preview of the parsed fields → confirm creates the campaign."""
    owners = office_choices(user=request.user)
    if not owners:
        raise PermissionDenied("只有办公室可以导入活动方案。")
    token = request.POST.get("draft", "")
    if token:
        return _import_confirm(request, owners, token)
    upload = CampaignUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and upload.is_valid():
        f = upload.cleaned_data["file"]
        if f.size > 10 * 1024 * 1024:
            upload.add_error("file", "文件过大, 上限为 10 MB。")
        else:
            data = f.read()
            try:
                check_upload(f.name, data, DOCUMENT)
                parsed = parse_campaign_bytes(data, f.name)
            except ValidationError as exc:
                upload.add_error("file", exc.messages)
            except ParseError as exc:
                upload.add_error("file", str(exc))
            else:
                key = uuid.uuid4().hex
                (_draft_dir() / key).write_bytes(data)
                token = signing.dumps(
                    {"key": key, "name": f.name, "user": request.user.pk}, salt="campaign-draft"
                )
                return _preview(request, owners, token, parsed.to_dict())
    return render(request, "campaigns/upload.html", {"form": upload})


def _initial_from_parsed(parsed: dict[str, Any]) -> dict[str, Any]:
    today = timezone.localdate()
    year = parsed.get("year") or today.year
    start = parsed.get("event_start") or f"{year}-09-01"
    end = parsed.get("event_end") or start
    return {
        "title": parsed.get("title") or "",
        "kind": services.guess_kind(parsed.get("title") or ""),
        "year": year,
        "theme": parsed.get("theme") or "",
        "event_start": start,
        "event_end": end,
        "registration_start": parsed.get("registration_start") or today.isoformat(),
        "registration_end": parsed.get("registration_end") or end,
        "completion_deadline": parsed.get("completion_deadline"),
        "summary_deadline": parsed.get("summary_deadline"),
        "summary_columns": "、".join(parsed.get("summary_columns") or []),
    }


def _organiser_rows(request: HttpRequest, names: list[str]) -> list[dict[str, Any]]:
    candidates = Organisation.objects.restrict(request.user, Action.VIEW)
    rows = []
    for i, name in enumerate(names[:100]):
        matches = organisation_match(name=name, candidates=candidates, limit=3)
        chosen = matches[0].organisation_id if matches and matches[0].how != "fuzzy" else None
        rows.append({"i": i, "name": name, "matches": matches, "chosen": chosen})
    return rows


def _preview(
    request: HttpRequest, owners: list, token: str, parsed: dict[str, Any], form=None, quotas=None
) -> HttpResponse:
    form = form or CampaignForm(initial=_initial_from_parsed(parsed), owners=owners)
    quotas = quotas or QuotaFormSet(
        prefix="q",
        initial=[
            {"who": q["who"], "min_count": q["min"], "kinds": services.quota_kinds_for(q["who"])}
            for q in parsed.get("quotas") or []
        ],
    )
    return render(
        request,
        "campaigns/preview.html",
        {
            "form": form,
            "quotas": quotas,
            "draft": token,
            "parsed": signing.dumps(parsed, salt="campaign-parsed", compress=True),
            "organisers": _organiser_rows(request, parsed.get("organizers") or []),
        },
    )


def _import_confirm(request: HttpRequest, owners: list, token: str) -> HttpResponse:
    try:
        draft = signing.loads(token, salt="campaign-draft", max_age=60 * 60 * 24)
        parsed = signing.loads(request.POST.get("parsed", ""), salt="campaign-parsed")
    except signing.BadSignature as exc:
        raise PermissionDenied("导入已失效, 请重新上传文件。") from exc
    if draft.get("user") != request.user.pk:
        raise PermissionDenied("导入已失效, 请重新上传文件。")
    path = _draft_dir() / str(draft["key"])
    if not path.exists():
        messages.error(request, "导入已失效或已确认, 请重新上传文件。")
        return redirect("campaigns:import")
    form = CampaignForm(request.POST, owners=owners)
    quotas = QuotaFormSet(request.POST, prefix="q")
    if form.is_valid() and quotas.is_valid():
        allowed = Organisation.objects.restrict(request.user, Action.VIEW)
        ids = [
            int(v)
            for k in request.POST
            if k.startswith("organiser_") and (v := request.POST.get(k, "")).isdigit()
        ]
        organizers = list(allowed.filter(pk__in=ids))
        try:
            campaign = services.campaign_create(
                user=request.user,
                owner_id=form.cleaned_data["owner"],
                fields=_fields(form.cleaned_data),
                quotas=_quotas(quotas),
                organizers=organizers,
                source_name=str(draft["name"]),
                source_bytes=path.read_bytes(),
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            path.unlink(missing_ok=True)
            messages.success(request, f"已根据活动方案创建「{campaign.title}」。")
            return redirect("campaigns:detail", pk=campaign.pk)
    return _preview(request, owners, token, parsed, form=form, quotas=quotas)


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    mine = selectors.activity_list(user=request.user, campaign=campaign)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "quotas": campaign.quotas.all(),
            "organizers": campaign.organizers.all()[:50],
            "can_change": can(request.user, campaign, Action.CHANGE),
            "can_register": services.registration_open(campaign)
            and selectors.registering_orgs(user=request.user, campaign=campaign).exists(),
            "registration_open": services.registration_open(campaign),
            "counts": {s.label: mine.filter(status=s).count() for s in Status},
            "queue_count": selectors.review_queue(user=request.user, campaign=campaign).count(),
        },
    )


@login_required
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    if not can(request.user, campaign, Action.CHANGE):
        raise PermissionDenied("只有组织单位可以修改本次活动。")
    initial = {f: getattr(campaign, f) for f in services.CampaignFields.__dataclass_fields__}
    initial["summary_columns"] = "、".join(campaign.summary_columns)
    initial["version"] = campaign.version
    form = CampaignForm(request.POST or None, initial=initial)
    quotas = QuotaFormSet(
        request.POST or None,
        prefix="q",
        initial=[
            {"who": q.who, "min_count": q.min_count, "kinds": q.kinds}
            for q in campaign.quotas.all()
        ],
    )
    if request.method == "POST" and form.is_valid() and quotas.is_valid():
        try:
            services.campaign_update(
                user=request.user,
                campaign=campaign,
                fields=_fields(form.cleaned_data),
                version=form.cleaned_data.get("version"),
                quotas=_quotas(quotas),
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(
        request,
        "campaigns/form.html",
        {"form": form, "quotas": quotas, "title": f"编辑: {campaign.title}", "campaign": campaign},
    )


# --- activities ----------------------------------------------------------------------------
def _activity_filters(request: HttpRequest) -> selectors.ActivityFilters:
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    return selectors.ActivityFilters(
        status=status if status in Status.values else "",
        kind=kind if kind in ActivityType.values else "",
        region_code=request.GET.get("region", "").strip()[:12],
        q=request.GET.get("q", "").strip()[:100],
    )


@login_required
def activity_list(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    filters = _activity_filters(request)
    page = paginate(
        request, selectors.activity_list(user=request.user, campaign=campaign, filters=filters)
    )
    return render(
        request,
        "campaigns/activities.html",
        {
            "campaign": campaign,
            "page": page,
            "filters": filters,
            "statuses": Status.choices,
            "kinds": ActivityType.choices,
        },
    )


@login_required
def review_queue(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    queue = selectors.review_queue(user=request.user, campaign=campaign)
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()][:200]
        done = services.activities_bulk_approve(
            user=request.user, activities=list(queue.filter(pk__in=ids))
        )
        messages.success(request, f"已审核通过 {done} 项活动。")
        return redirect("campaigns:review", pk=campaign.pk)
    return render(
        request,
        "campaigns/review.html",
        {"campaign": campaign, "page": paginate(request, queue)},
    )


def _activity_fields(d: dict[str, Any]) -> services.ActivityFields:
    return services.ActivityFields(
        **{
            k: d[k]
            for k in services.ActivityFields.__dataclass_fields__
            if k in d and d[k] is not None
        }
    )


@login_required
def activity_register(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    orgs = list(
        selectors.registering_orgs(user=request.user, campaign=campaign).values_list("pk", "name")[
            :500
        ]
    )
    if not orgs:
        raise PermissionDenied("您所在的单位不能在本次活动中登记。")
    form = ActivityForm(request.POST or None, request.FILES or None, organisers=orgs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            organiser = selectors.registering_orgs(user=request.user, campaign=campaign).get(
                pk=data["organiser"]
            )
            activity = services.activity_register(
                user=request.user,
                campaign=campaign,
                organiser=organiser,
                fields=_activity_fields(data),
                submit="save_draft" not in request.POST,
            )
            poster = data.get("poster")
            if poster:
                services.activity_poster_set(
                    user=request.user, activity=activity, name=poster.name, data=poster.read()
                )
        except Organisation.DoesNotExist:
            form.add_error("organiser", "请选择主办单位。")
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"已登记「{activity.title}」。")
            return redirect("campaigns:activity", pk=activity.pk)
    return render(
        request,
        "campaigns/activity_form.html",
        {"form": form, "campaign": campaign, "title": "登记活动"},
    )


def _activity(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Activity:
    """The activity if the user may see it (else 404) and may ``action`` it (else 403)."""
    activity = get_object_or_404(
        Activity.objects.restrict(request.user, Action.VIEW).select_related(
            "campaign__region", "organiser", "region"
        ),
        pk=pk,
    )
    if action != Action.VIEW and not can(request.user, activity, action):
        raise PermissionDenied("您无权修改这项活动。")
    return activity


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk)
    can_change = can(request.user, activity, Action.CHANGE)
    tier = services.review_tier(request.user, activity)
    is_office = services.review_tier_any(request.user, activity)
    return render(
        request,
        "campaigns/activity_detail.html",
        {
            "activity": activity,
            "campaign": activity.campaign,
            "events": activity.events.select_related("user"),
            "photos": activity.photos.all(),
            "can_edit": can_change and activity.status in (Status.DRAFT, Status.RETURNED),
            "can_complete": can_change and activity.status in (Status.APPROVED, Status.COMPLETED),
            "tier": tier,
            "review_form": ReviewForm(),
            "can_reopen": is_office,
            "can_unpublish": is_office and activity.is_published,
            "unpublish_form": UnpublishForm(),
            "can_nominate": activity.is_published
            and is_office
            and not activity.nominations.exists(),
            "criteria": awards.criteria_for(activity.campaign) if activity.is_published else [],
            "reopen_form": ReopenForm(
                initial={"until": timezone.localdate() + dt.timedelta(days=7)}
            ),
            "photo_form": PhotoForm(),
            "complete_form": CompleteForm(
                initial={
                    "actual_participants": activity.actual_participants
                    or activity.expected_participants,
                    "result_summary": activity.result_summary,
                    "news_links": activity.news_links,
                    "version": activity.version,
                }
            ),
        },
    )


@login_required
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk, Action.CHANGE)
    initial = {f: getattr(activity, f) for f in services.ActivityFields.__dataclass_fields__}
    initial["region"] = activity.region.code
    initial["version"] = activity.version
    if initial["starts_at"]:
        initial["starts_at"] = timezone.localtime(activity.starts_at)
        initial["ends_at"] = timezone.localtime(activity.ends_at)
    form = ActivityForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_update(
                user=request.user,
                activity=activity,
                fields=_activity_fields(form.cleaned_data),
                version=form.cleaned_data.get("version"),
                submit="submit" in request.POST,
            )
            poster = form.cleaned_data.get("poster")
            if poster:
                services.activity_poster_set(
                    user=request.user, activity=activity, name=poster.name, data=poster.read()
                )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("campaigns:activity", pk=activity.pk)
    return render(
        request,
        "campaigns/activity_form.html",
        {
            "form": form,
            "campaign": activity.campaign,
            "activity": activity,
            "title": f"修改: {activity.title}",
        },
    )


@login_required
@require_POST
def activity_submit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk, Action.CHANGE)
    try:
        services.activity_submit(user=request.user, activity=activity)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已提交审核。")
    return redirect("campaigns:activity", pk=pk)


@login_required
@require_POST
def activity_review(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk)
    form = ReviewForm(request.POST)
    approve = request.POST.get("decision") == "approve"
    comment = form.data.get("comment", "")[:2000]
    try:
        services.activity_review(
            user=request.user, activity=activity, approve=approve, comment=comment
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已审核通过。" if approve else "已退回修改。")
    return redirect("campaigns:activity", pk=pk)


@login_required
@require_POST
def activity_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写有效的日期。")
        return redirect("campaigns:activity", pk=pk)
    try:
        services.activity_reopen(
            user=request.user, activity=activity, until=form.cleaned_data["until"]
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已重新开放。")
    return redirect("campaigns:activity", pk=pk)


@login_required
@require_POST
def activity_unpublish(request: HttpRequest, pk: int) -> HttpResponse:
    """An office takes a published activity off the portal with a reason (the page asks
    to confirm first); units and offices elsewhere get 403/404."""
    activity = _activity(request, pk)
    form = UnpublishForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.activity_unpublish(user=request.user, activity=activity, comment=reason)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已撤销发布, 活动已退回主办单位修改, 并已通知主办单位。")
    return redirect("campaigns:activity", pk=pk)


@login_required
@require_POST
def activity_photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk, Action.CHANGE)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要上传的照片。")
        return redirect("campaigns:activity", pk=pk)
    image = form.cleaned_data["image"]
    if image.size > services.IMAGE_MAX_BYTES:
        messages.error(request, "图片过大, 上限为 8 MB。")
        return redirect("campaigns:activity", pk=pk)
    try:
        services.activity_photo_add(
            user=request.user,
            activity=activity,
            name=image.name,
            data=image.read(),
            caption=form.cleaned_data["caption"],
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "照片已上传。")
    return redirect("campaigns:activity", pk=pk)


@login_required
@require_POST
def activity_complete(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk, Action.CHANGE)
    form = CompleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("campaigns:activity", pk=pk)
    try:
        services.activity_complete(
            user=request.user,
            activity=activity,
            actual_participants=form.cleaned_data["actual_participants"],
            result_summary=form.cleaned_data["result_summary"],
            news_links=form.cleaned_data["news_links"],
            version=form.cleaned_data.get("version"),
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已提交完成情况。")
    return redirect("campaigns:activity", pk=pk)


@login_required
def activity_photo(request: HttpRequest, pk: int) -> FileResponse:
    photo = get_object_or_404(ActivityPhoto.objects.restrict(request.user, Action.VIEW), pk=pk)
    return FileResponse(photo.image.open("rb"))


@login_required
def activity_poster(request: HttpRequest, pk: int) -> FileResponse:
    activity = _activity(request, pk)
    if not activity.poster:
        raise Http404("没有海报")
    return FileResponse(activity.poster.open("rb"))


@login_required
def activities_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Bulk registration from an Excel list (all or nothing, row errors in Chinese)."""
    campaign = _campaign(request, pk)
    if not selectors.registering_orgs(user=request.user, campaign=campaign).exists():
        raise PermissionDenied("您所在的单位不能在本次活动中登记。")
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = ["请选择要导入的 Excel 文件。"]
        elif (upload.size or 0) > SPREADSHEET.max_bytes:
            errors = [f"文件过大, 上限为 {SPREADSHEET.max_bytes // 1024 // 1024} MB。"]
        else:
            try:
                result = importing.activities_import(
                    user=request.user,
                    campaign=campaign,
                    name=upload.name or "",
                    data=upload.read(),
                )
            except ValidationError as exc:
                errors = exc.messages
            except DataImportError as exc:
                errors = exc.errors
            else:
                messages.success(request, f"已导入 {result.created} 场活动, 等待审核。")
                return redirect("campaigns:activities", pk=campaign.pk)
    return render(
        request, "campaigns/activities_import.html", {"campaign": campaign, "errors": errors}
    )


@login_required
def activities_template(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    return xlsx_response(importing.template_xlsx(), f"{campaign.title}活动登记模板.xlsx")


# --- awards ------------------------------------------------------------------------------
def _scores(request: HttpRequest, criteria: list) -> dict[str, str]:
    return {str(c.pk): request.POST.get(f"score_{c.pk}", "") for c in criteria}


@login_required
def award_list(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    criteria = awards.criteria_for(campaign)
    nominations = (
        Nomination.objects.restrict(request.user, Action.VIEW)
        .filter(campaign=campaign)
        .select_related("organisation", "activity", "region", "nominated_by")
    )
    is_owner = can(request.user, campaign, Action.CHANGE)
    return render(
        request,
        "campaigns/awards.html",
        {
            "campaign": campaign,
            "criteria": criteria,
            "page": paginate(request, nominations),
            "is_owner": is_owner,
            "can_nominate": is_owner or awards.can_nominate(request.user, campaign),
            "published": awards.published_awards(campaign),
            "categories": AwardCategory.choices,
        },
    )


@login_required
@require_POST
def award_nominate(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    criteria = awards.criteria_for(campaign)
    organisation = activity = None
    if request.POST.get("activity"):
        activity = get_object_or_404(
            Activity.objects.restrict(request.user, Action.VIEW).filter(campaign=campaign),
            pk=request.POST.get("activity") if request.POST.get("activity", "").isdigit() else 0,
        )
    else:
        name = request.POST.get("organisation", "").strip()[:200]
        organisation = (
            Organisation.objects.restrict(request.user, Action.VIEW)
            .filter(Q(name=name) | Q(short_name=name) | Q(aliases__name=name))
            .distinct()
            .first()
            if name
            else None
        )
        if organisation is None:
            messages.error(request, f"找不到单位「{name}」(请填写全称或简称)。")
            return redirect("campaigns:awards", pk=campaign.pk)
    try:
        awards.nomination_create(
            user=request.user,
            campaign=campaign,
            scores=_scores(request, criteria),
            organisation=organisation,
            activity=activity,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已推荐。")
    return redirect("campaigns:awards", pk=campaign.pk)


@login_required
@require_POST
def award_decide(request: HttpRequest, pk: int) -> HttpResponse:
    nomination = get_object_or_404(
        Nomination.objects.restrict(request.user, Action.VIEW).select_related("campaign"), pk=pk
    )
    awards.nomination_decide(
        user=request.user, nomination=nomination, award=request.POST.get("award") == "1"
    )
    messages.success(request, "已评定。")
    return redirect("campaigns:awards", pk=nomination.campaign_id)


@login_required
@require_POST
def award_publish(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        awards.awards_publish(
            user=request.user, campaign=campaign, publish=request.POST.get("publish") != "0"
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已更新评选结果的发布状态。")
    return redirect("campaigns:awards", pk=campaign.pk)


@login_required
@require_POST
def award_criteria(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    rows = []
    for name, points in zip(
        request.POST.getlist("name")[:20], request.POST.getlist("max_points")[:20], strict=False
    ):
        if name.strip():
            rows.append(
                awards.CriterionFields(
                    name=name[:50], max_points=int(points) if points.isdigit() else 0
                )
            )
    try:
        awards.criteria_set(user=request.user, campaign=campaign, criteria=rows)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "评选标准已保存。")
    return redirect("campaigns:awards", pk=campaign.pk)


# --- quotas and summaries ------------------------------------------------------------------
@login_required
def quota_progress(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    orgs = selectors.quota_organisations(user=request.user, campaign=campaign)
    page = paginate(request, orgs)
    rows = selectors.quota_rows(campaign=campaign, organisations=list(page.object_list))
    by_kind = selectors.quota_rollup(user=request.user, campaign=campaign, by_kind=True)
    return render(
        request,
        "campaigns/quotas.html",
        {
            "campaign": campaign,
            "page": page,
            "rows": rows,
            "rollup": selectors.merge_kinds(by_kind),
            "rollup_kinds": by_kind,
            "light_labels": selectors.LIGHT_LABELS,
        },
    )


@login_required
def summary_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The Word summary report (公文 layout) of what the user's offices oversee."""
    from kepu.campaigns.documents import summary_docx
    from kepu.progress.documents import docx_response

    campaign = _campaign(request, pk)
    return docx_response(
        summary_docx(user=request.user, campaign=campaign), f"{campaign.title}工作总结.docx"
    )


@login_required
def summary_export(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    filters = _activity_filters(request)
    qs = selectors.activity_list(user=request.user, campaign=campaign, filters=filters)
    if qs.count() > SUMMARY_JOB_ROWS:
        from dataclasses import asdict

        from kepu.core.jobs import job_organisation, job_start

        job = job_start(
            user=request.user,
            kind="campaign_summary",
            organisation=job_organisation(request.user),
            func="kepu.campaigns.jobs.summary_export",
            params={"campaign": campaign.pk, "filters": asdict(filters)},
            title=f"导出{campaign.title}汇总表",
        )
        messages.info(request, "活动较多, 汇总表已转为后台任务导出; 完成后可在此页下载。")
        return redirect("jobs:detail", pk=job.pk)
    data = excel.summary_xlsx(campaign=campaign, activities=qs, title_suffix=filters.region_code)
    return xlsx_response(data, f"{campaign.title}汇总表.xlsx")
