from django.urls import path

from kepu.orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.org_list, name="list"),
    path("new/", views.org_create, name="create"),
    path("<int:pk>/", views.org_detail, name="detail"),
    path("<int:pk>/edit/", views.org_edit, name="edit"),
    path("<int:pk>/delete/", views.org_delete, name="delete"),
    path("<int:pk>/members/add/", views.member_add, name="member_add"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
]

urlpatterns += [
    path("import/", views.org_import, name="import"),
    path("import/template/", views.org_import_template, name="import_template"),
    path("import/confirm/", views.org_import_confirm, name="import_confirm"),
    path("users/import/", views.user_import, name="user_import"),
    path("users/import/template/", views.user_import_template, name="user_import_template"),
    path("users/import/confirm/", views.user_import_confirm, name="user_import_confirm"),
    path("invite/<uidb64>/<token>/", views.invitation_accept, name="invite"),
]
