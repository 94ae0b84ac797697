from django.urls import path

from . import notices, views

app_name = "public"

urlpatterns = [
    path("g/<str:token>/", views.grid, name="grid"),
    path("r/", views.report, name="report"),
    path("t/", views.track_lookup, name="track_lookup"),
    path("t/<str:code>/", views.track, name="track"),
    path("t/<str:code>/rate/", views.track_rate, name="track_rate"),
    path("t/<str:code>/reopen/", views.track_reopen, name="track_reopen"),
    path("t/<str:code>/photo/<int:n>/", views.track_photo, name="track_photo"),
    path("n/<str:token>/", notices.notice_page, name="notice"),
    path("n/<str:token>/reply/", notices.notice_reply, name="notice_reply"),
    path("d/<str:token>/", views.disclosure, name="disclosure"),
    path("d/<str:token>/photo/<str:photo>/", views.disclosure_photo, name="disclosure_photo"),
]
