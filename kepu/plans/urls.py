from django.urls import path

from kepu.plans import views

app_name = "plans"
urlpatterns = [
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/export.xlsx", views.ledger_export, name="ledger_export"),
    path("my-tasks/", views.my_tasks, name="my_tasks"),
    path("", views.plan_list, name="list"),
    path("import/", views.document_upload, name="upload"),
    path("import-ledger/", views.ledger_import, name="ledger_import"),
    path("drafts/<int:pk>/", views.draft_preview, name="draft"),
    path("drafts/<int:pk>/cancel/", views.draft_cancel, name="draft_cancel"),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/source/", views.plan_source, name="source"),
    path("<int:pk>/delete/", views.plan_delete, name="delete"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
]
