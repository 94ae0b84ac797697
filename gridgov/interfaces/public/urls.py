from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("health/", views.health, name="health"),
]
