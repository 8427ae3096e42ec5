from django.urls import path

from kepu.survey import views

app_name = "survey"
urlpatterns = [
    path("", views.wave_list, name="waves"),
    path("new/", views.wave_create, name="wave_create"),
    path("<int:pk>/", views.wave_detail, name="wave"),
    path("<int:pk>/edit/", views.wave_edit, name="wave_edit"),
    path("<int:pk>/delete/", views.wave_delete, name="wave_delete"),
    path("<int:pk>/import/", views.data_import, name="import"),
    path("<int:pk>/template.csv", views.data_template, name="data_template"),
    path("<int:pk>/margins/", views.margins, name="margins"),
    path("<int:pk>/targets/", views.targets, name="targets"),
    path("<int:pk>/targets/<int:target_pk>/delete/", views.target_delete, name="target_delete"),
    path("<int:pk>/estimate/", views.run_start, name="run_start"),
    path("<int:pk>/runs/<int:run_pk>/status/", views.run_status, name="run_status"),
    path("<int:pk>/runs/<int:run_pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("<int:pk>/geo.json", views.wave_geo, name="geo"),
    path("<int:pk>/export.xlsx", views.results_export, name="export"),
    path("<int:pk>/questionnaire.xlsx", views.questionnaire_export, name="questionnaire_export"),
    path("questionnaire.xlsx", views.questionnaire_template, name="questionnaire_template"),
]
