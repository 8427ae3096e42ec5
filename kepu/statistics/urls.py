from django.urls import path

from kepu.statistics import views

app_name = "statistics"
urlpatterns = [
    path("", views.index, name="index"),
    path("catalogues/", views.catalogue_list, name="catalogues"),
    path("catalogues/import/", views.catalogue_import, name="catalogue_import"),
    path("catalogues/<int:pk>/", views.catalogue_detail, name="catalogue"),
    path("new/", views.collection_new, name="collection_new"),
    path("<int:pk>/", views.collection_detail, name="collection"),
    path("<int:pk>/rollup/", views.rollup, name="rollup"),
    path("<int:pk>/rollup.xlsx", views.rollup_export, name="rollup_export"),
    path("population/", views.population, name="population"),
    path("population/template.xlsx", views.population_template, name="population_template"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("reports/<int:pk>/template.xlsx", views.report_template, name="report_template"),
    path("reports/<int:pk>/upload/", views.report_upload, name="report_upload"),
    path("reports/<int:pk>/review/", views.report_review, name="report_review"),
]
