from django.urls import path

from kepu.progress import views

app_name = "progress"
urlpatterns = [
    path("", views.round_list, name="rounds"),
    path("rounds/new/", views.round_create, name="round_create"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/close/", views.round_close, name="round_close"),
    path("rounds/<int:pk>/report.docx", views.round_docx, name="round_docx"),
    path("rounds/<int:pk>/ledger.xlsx", views.round_xlsx, name="round_xlsx"),
    path("rounds/<int:pk>/review/", views.review_queue, name="review"),
    path("reports/", views.my_reports, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("reports/<int:pk>/split/", views.report_split, name="report_split"),
    path("reports/<int:pk>/review/", views.report_review, name="report_review"),
    path("reports/<int:report_pk>/notice/", views.notice_create, name="notice_create"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/plans/<int:pk>/", views.plan_dashboard, name="plan_dashboard"),
    path("dashboard/offices/<int:pk>/", views.office_dashboard, name="office_dashboard"),
    path("settings/", views.office_settings, name="settings"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/<int:pk>/", views.notice_detail, name="notice"),
    path("notices/<int:pk>/notice.docx", views.notice_docx, name="notice_docx"),
    path("tasks/<int:pk>/terminate/", views.task_terminate, name="task_terminate"),
    path("plans/<int:pk>/links/", views.plan_links, name="plan_links"),
    path("plans/<int:pk>/links/suggest/", views.plan_links_suggest, name="plan_links_suggest"),
    path("links/<int:pk>/decide/", views.link_decide, name="link_decide"),
    path("plans/<int:pk>/links/add/", views.link_create, name="link_create"),
    path("plans/<int:pk>/coverage/", views.plan_coverage, name="plan_coverage"),
]
