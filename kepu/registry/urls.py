from django.urls import path

from kepu.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.base_list, name="bases"),
    path("apply/", views.base_apply, name="base_apply"),
    path("<int:pk>/", views.base_detail, name="base"),
    path("<int:pk>/edit/", views.base_edit, name="base_edit"),
    path("<int:pk>/endorse/", views.base_endorse, name="base_endorse"),
    path("<int:pk>/certify/", views.base_certify, name="base_certify"),
    path("<int:pk>/review/", views.review_open, name="review_open"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
    path("sheets/", views.sheet_list, name="sheets"),
    path("sheets/template.xlsx", views.sheet_template, name="sheet_template"),
    path("sheets/<int:pk>/", views.sheet_detail, name="sheet"),
    path("sheets/<int:pk>/export.xlsx", views.sheet_export, name="sheet_export"),
    path("experts/", views.expert_list, name="experts"),
    path("experts/new/", views.expert_form, name="expert_new"),
    path("experts/<int:pk>/edit/", views.expert_form, name="expert_edit"),
]
urlpatterns += [
    path("museums/", views.museum_list, name="museums"),
    path("museums/new/", views.museum_form, name="museum_new"),
    path("museums/summary/", views.museum_summary, name="museum_summary"),
    path("museums/export.xlsx", views.museum_export, name="museum_export"),
    path("museums/<int:pk>/", views.museum_detail, name="museum"),
    path("museums/<int:pk>/edit/", views.museum_form, name="museum_edit"),
    path("museums/<int:pk>/report/", views.museum_report_open, name="museum_report_open"),
    path("museum-reports/<int:pk>/", views.museum_report, name="museum_report"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_form, name="team_new"),
    path("teams/<int:pk>/", views.team_detail, name="team"),
    path("teams/<int:pk>/edit/", views.team_form, name="team_edit"),
    path("teams/<int:pk>/import/", views.team_import, name="team_import"),
    path("teams/<int:team_pk>/volunteers/new/", views.volunteer_form, name="volunteer_new"),
    path("volunteers/", views.volunteer_list, name="volunteers"),
    path("volunteers/template.xlsx", views.volunteer_template, name="volunteer_template"),
    path("volunteers/totals/", views.volunteer_totals, name="volunteer_totals"),
    path("volunteers/<int:pk>/", views.volunteer_detail, name="volunteer"),
    path("volunteers/<int:pk>/edit/", views.volunteer_form, name="volunteer_edit"),
    path("volunteers/<int:pk>/service/", views.service_add, name="service_add"),
    path("service-records/<int:pk>/edit/", views.service_edit, name="service_edit"),
    path("service-records/<int:pk>/delete/", views.service_delete, name="service_delete"),
    path(
        "volunteers/<int:pk>/certificate.docx",
        views.volunteer_certificate,
        name="volunteer_certificate",
    ),
]
