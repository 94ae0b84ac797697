from django.urls import path

from . import households, views

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("units/", views.unit_tree, name="unit_tree"),
    path("units/<int:unit_id>/", views.unit_detail, name="unit_detail"),
    path("units/<int:unit_id>/children/", views.unit_children, name="unit_children"),
    *households.household_urls(),
]
