from django.urls import path

from . import boards, dashboard, views

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("units/", views.unit_tree, name="unit_tree"),
    path("units/<int:unit_id>/", views.unit_detail, name="unit_detail"),
    path("units/<int:unit_id>/children/", views.unit_children, name="unit_children"),
    path("units/<int:unit_id>/board.pdf", boards.grid_board_pdf, name="grid_board_pdf"),
    path("units/<int:unit_id>/structure.pdf", boards.structure_board_pdf, name="structure_board_pdf"),
    path("units/<int:unit_id>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<int:unit_id>/add/", views.unit_add_child, name="unit_add_child"),
    path("units/<int:unit_id>/move/", views.unit_move, name="unit_move"),
    path("units/<int:unit_id>/history/", views.unit_history, name="unit_history"),
    path("units/<int:unit_id>/staff/add/", views.grant_add, name="grant_add"),
    path("units/<int:unit_id>/departments/add/", views.department_add, name="department_add"),
    path("grants/<int:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/screen/", dashboard.dashboard_screen, name="dashboard_screen"),
    path("dashboard/map/", dashboard.map_page, name="map"),
    path("dashboard/map.json", dashboard.map_data, name="map_data"),
    path("dashboard/reports/", dashboard.reports, name="reports"),
    path("dashboard/reports/<int:report_id>/report.pdf", dashboard.report_download, {"fmt": "pdf"},
         name="report_pdf"),
    path("dashboard/reports/<int:report_id>/report.xlsx", dashboard.report_download, {"fmt": "xlsx"},
         name="report_xlsx"),
    path("units/<int:unit_id>/distribution.pdf", dashboard.distribution_pdf, name="distribution_pdf"),
]
