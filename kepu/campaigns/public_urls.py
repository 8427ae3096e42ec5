from django.urls import path

from kepu.campaigns import public

app_name = "portal"
urlpatterns = [
    path("", public.portal_index, name="index"),
    path("campaigns/<int:pk>/", public.portal_campaign, name="campaign"),
    path("campaigns/<int:pk>/geo.json", public.portal_geo, name="geo"),
    path("campaigns/<int:pk>/points.json", public.portal_points, name="points"),
    path("campaigns/<int:pk>/calendar.ics", public.portal_ics, name="ics"),
    path(
        "campaigns/<int:pk>/activities.json",
        public.portal_open_data,
        {"fmt": "json"},
        name="open_json",
    ),
    path(
        "campaigns/<int:pk>/activities.csv",
        public.portal_open_data,
        {"fmt": "csv"},
        name="open_csv",
    ),
    path("campaigns/<int:pk>/awards/", public.portal_awards, name="awards"),
    path("activities/<int:pk>/", public.portal_activity, name="activity"),
    path("activities/<int:pk>/poster/", public.portal_poster, name="poster"),
    path("photos/<int:pk>/", public.portal_photo, name="photo"),
]
