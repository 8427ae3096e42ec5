from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from kepu.audit.views import audit_list
from kepu.core import views as core_views
from kepu.core.autocomplete import autocomplete

admin.site.site_header = "科普平台管理后台"
admin.site.site_title = "科普平台"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("me/permissions/", core_views.my_permissions, name="my_permissions"),
    path("accounts/login/", core_views.KepuLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(template_name="registration/password_change.html"),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("orgs/", include("kepu.orgs.urls")),
    path("plans/", include("kepu.plans.urls")),
    path("survey/", include("kepu.survey.urls")),
    path("campaigns/", include("kepu.campaigns.urls")),
    path("portal/", include("kepu.campaigns.public_urls")),
    path("registry/", include("kepu.registry.urls")),
    path("audit/", audit_list, name="audit"),
    path("jobs/", include("kepu.core.job_urls")),
    path("autocomplete/<slug:source>/", autocomplete, name="autocomplete"),
    path("progress/", include("kepu.progress.urls")),
    path("notifications/", include("kepu.notifications.urls")),
    path("statistics/", include("kepu.statistics.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "kepu.core.views.error_403"
handler404 = "kepu.core.views.error_404"
handler500 = "kepu.core.views.error_500"
