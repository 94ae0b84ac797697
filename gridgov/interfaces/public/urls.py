from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("g/<str:token>/", views.grid, name="grid"),
]
