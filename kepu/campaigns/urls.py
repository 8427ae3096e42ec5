from django.urls import path

from kepu.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("import/", views.campaign_import, name="import"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("<int:pk>/map.json", views.campaign_map, name="map"),
    path("<int:pk>/activities/", views.activity_list, name="activities"),
    path("<int:pk>/review/", views.review_queue, name="review"),
    path("<int:pk>/register/", views.activity_register, name="register"),
    path("<int:pk>/import-activities/", views.activities_import, name="activities_import"),
    path(
        "<int:pk>/import-activities/template.xlsx",
        views.activities_template,
        name="activities_template",
    ),
    path("<int:pk>/awards/", views.award_list, name="awards"),
    path("<int:pk>/awards/nominate/", views.award_nominate, name="award_nominate"),
    path("<int:pk>/awards/publish/", views.award_publish, name="award_publish"),
    path("<int:pk>/awards/criteria/", views.award_criteria, name="award_criteria"),
    path("nominations/<int:pk>/decide/", views.award_decide, name="award_decide"),
    path("<int:pk>/quotas/", views.quota_progress, name="quotas"),
    path("<int:pk>/summary.xlsx", views.summary_export, name="summary"),
    path("<int:pk>/summary.docx", views.summary_report, name="summary_report"),
    path("activities/<int:pk>/", views.activity_detail, name="activity"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/submit/", views.activity_submit, name="activity_submit"),
    path("activities/<int:pk>/review/", views.activity_review, name="activity_review"),
    path("activities/<int:pk>/reopen/", views.activity_reopen, name="activity_reopen"),
    path("activities/<int:pk>/unpublish/", views.activity_unpublish, name="activity_unpublish"),
    path("activities/<int:pk>/photos/", views.activity_photo_add, name="activity_photo_add"),
    path("activities/<int:pk>/complete/", views.activity_complete, name="activity_complete"),
    path("activities/<int:pk>/poster/", views.activity_poster, name="activity_poster"),
    path("photos/<int:pk>/", views.activity_photo, name="photo"),
]
