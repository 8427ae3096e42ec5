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
