from django.urls import path

from gridgov.interfaces import two_factor

from . import boards, case_forms, cases, dashboard, households, views

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("2fa/", two_factor.two_factor, name="two_factor"),
    path("password/", views.password_change, name="password_change"),
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
    path("units/<int:unit_id>/board.pdf", boards.grid_board_pdf, name="grid_board_pdf"),
    path("units/<int:unit_id>/structure.pdf", boards.structure_board_pdf, name="structure_board_pdf"),
    path("units/<int:unit_id>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<int:unit_id>/add/", views.unit_add_child, name="unit_add_child"),
    path("units/<int:unit_id>/move/", views.unit_move, name="unit_move"),
    path("units/<int:unit_id>/history/", views.unit_history, name="unit_history"),
    path("units/<int:unit_id>/staff/add/", views.grant_add, name="grant_add"),
    path("units/<int:unit_id>/departments/add/", views.department_add, name="department_add"),
    path("grants/<int:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    *households.household_urls(),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/screen/", dashboard.dashboard_screen, name="dashboard_screen"),
    path("dashboard/map/", dashboard.map_page, name="map"),
    path("dashboard/map.json", dashboard.map_data, name="map_data"),
    path("dashboard/map-geometry.json", dashboard.map_geometry, name="map_geometry"),
    path("dashboard/reports/", dashboard.reports, name="reports"),
    path("dashboard/reports/<int:report_id>/report.pdf", dashboard.report_download, {"fmt": "pdf"},
         name="report_pdf"),
    path("dashboard/reports/<int:report_id>/report.xlsx", dashboard.report_download, {"fmt": "xlsx"},
         name="report_xlsx"),
    path("units/<int:unit_id>/distribution.pdf", dashboard.distribution_pdf, name="distribution_pdf"),
]

# The residents' side (contact/supervision cards, follow-up visits, disclosure, result photos).
from . import case_categories, public_side  # noqa: E402 - kept apart from the list above so branches merge cleanly

urlpatterns += [
    path("units/<int:unit_id>/cards.pdf", public_side.grid_cards_pdf, name="grid_cards_pdf"),
    path("units/<int:unit_id>/party-board.pdf", boards.party_board_pdf, name="party_board_pdf"),
    path("cases/<int:case_id>/follow-up/", public_side.case_follow_up, name="case_follow_up"),
    path("cases/<int:case_id>/disclose/", public_side.case_disclose_view, name="case_disclose"),
    path("cases/<int:case_id>/result-photo/", public_side.case_result_photo, name="case_result_photo"),
    path("cases/<int:case_id>/reporter/", cases.case_reporter_unmask, name="case_reporter_unmask"),
    path("cases/<int:case_id>/reporter/disclose/", cases.case_reporter_disclose, name="case_reporter_disclose"),
    path("cases/categories/", case_categories.case_categories, name="case_categories"),
]

# Security: bulk exports with a second person's approval, the security admin's pages.
from . import exports, my_sessions, security_admin  # noqa: E402

urlpatterns += [
    path("exports/", exports.export_list, name="export_list"),
    path("exports/<int:export_id>/", exports.export_detail, name="export_detail"),
    path("exports/<int:export_id>/decide/", exports.export_decide, name="export_decide"),
    path("exports/<int:export_id>/file.xlsx", exports.export_download, name="export_download"),
    *security_admin.urls(),
    *my_sessions.urls(),
]

# Workforce: duty lists, points, the monthly assessment.
from . import workforce  # noqa: E402

urlpatterns += workforce.urls()
# Notices (通知传达): the worker's 今日通知, the office's list, a notice's reach board.
from . import notices  # noqa: E402

urlpatterns += notices.urls()
# Visits (走访): 我的走访, the record form, the log, campaigns, must-visit rules.
from . import visits  # noqa: E402

urlpatterns += visits.urls()
# Mediation (矛盾纠纷调解): the ledger, taking up, detail, actions, parties in full, the agreement.
from . import mediation  # noqa: E402

urlpatterns += mediation.urls()

# Deliberation (群众议事): proposals, the vote sheet, talk days, printed notices.
from . import deliberation  # noqa: E402

urlpatterns += deliberation.urls()

# The working calendar (holidays and make-up workdays, maintained by the county office).
from . import work_calendar  # noqa: E402

urlpatterns += [
    path("calendar/", work_calendar.work_calendar_page, name="work_calendar"),
]

# Routines (例行工作): recurring talk days, visit campaigns and duty lists (gridgov.processes.routines).
from . import routines as routine_pages  # noqa: E402

urlpatterns += [
    path("routines/", routine_pages.routine_list, name="routine_list"),
    path("routines/<int:routine_id>/", routine_pages.routine_detail, name="routine_detail"),
]

# Worklists: 回访 (results residents have not answered).
urlpatterns += [
    path("cases/follow-ups/", cases.follow_up_worklist, name="follow_up_worklist"),
]

# Scheduled jobs (定时任务): what runs by itself, and whether it does.
from . import jobs  # noqa: E402

urlpatterns += jobs.urls()
