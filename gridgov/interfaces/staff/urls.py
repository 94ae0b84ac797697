from django.urls import path

from . import case_forms, cases, views

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("units/", views.unit_tree, name="unit_tree"),
    path("units/<int:unit_id>/", views.unit_detail, name="unit_detail"),
    path("units/<int:unit_id>/children/", views.unit_children, name="unit_children"),
    path("cases/", cases.case_queue, name="case_queue"),
    path("cases/new/", cases.case_new, name="case_new"),
    path("cases/map/", cases.case_map, name="case_map"),
    path("cases/<int:case_id>/", cases.case_detail, name="case_detail"),
    path("cases/<int:case_id>/act/<str:action>/", cases.case_act, name="case_act"),
    path("cases/files/<int:attachment_id>/", cases.case_attachment, name="case_attachment"),
    path("cases/<int:case_id>/upload/", cases.case_upload, name="case_upload"),
    path("inbox/", cases.inbox, name="inbox"),
    path("cases/<int:case_id>/forms/<str:kind>.pdf", case_forms.case_form, name="case_form"),
]
