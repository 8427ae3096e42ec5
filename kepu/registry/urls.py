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
