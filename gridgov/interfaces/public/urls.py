from django.urls import path  # noqa: F401  (residents' pages are added here)

app_name = "public"

urlpatterns: list = []
