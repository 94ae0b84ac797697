"""Weekly, monthly and 12345 weekly reports: generated as a Celery task (eager in tests) with a
progress record, kept for download as PDF and Excel, scoped."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.insights.models import ReportRun, ReportStatus
from gridgov.insights.services import report_generate, report_request
from tests.boards.test_boards import embedded_fonts, save

from .conftest import NOW

pytestmark = pytest.mark.django_db


def text_of(pdf: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr("gridgov.interfaces.staff.dashboard.now", lambda: NOW)
    monkeypatch.setattr("gridgov.insights.tasks.now", lambda: NOW)


def test_monthly_report_through_the_page(april, login, django_capture_on_commit_callbacks):
    w = april.world
    client = login(w.zhang_wei)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/dashboard/reports/", {"unit": w.township.pk, "kind": "monthly", "day": "2026-04-15"})
    assert r.status_code == 302
    run = ReportRun.dangerously_unscoped.get()
    assert (run.status, run.progress, run.period_start, run.period_end) == (
        ReportStatus.DONE, 100, dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    page = client.get("/dashboard/reports/").content.decode()
    assert "吴城乡月报（2026-04-01 至 2026-04-30）" in page and "已完成" in page

    pdf = client.get(f"/dashboard/reports/{run.pk}/report.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert any("Noto-Sans-CJK-SC" in f for f in embedded_fonts(pdf.content))
    text = text_of(pdf.content)
    for expected in ("吴城乡网格化服务管理工作月报", "响应率", "40.0%", "193.9", "下级单位排名", "吴城村",
                     "通报", "超期未办结事件", "环境卫生", "走访、调解、议事和考核", "走访达标率", "调解成功率",
                     "提事数"):
        assert expected in text, expected
    assert "驼峰" not in text
    save(pdf.content, "monthly-report")

    xlsx = client.get(f"/dashboard/reports/{run.pk}/report.xlsx")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["主要指标", "下级单位排名", "通报", "按类别", "走访调解议事考核", "超期事件"]
    # The grid work beside the cases, as the township office sees it on the dashboard; nothing to divide → "—".
    work = {r[0]: r for r in wb["走访调解议事考核"].iter_rows(min_row=2, values_only=True)}
    assert work["走访达标率"][1:3] == ("—", "没有应访户")
    assert work["调解成功率"][1:3] == ("—", "0/0")
    assert work["提事数"][1] == "0" and work["表决通过率"][1] == "—"
    assert work["责任清单按时完成率"][1:3] == ("—", "0/0")
    assert all(r[3] for r in work.values()), "every row carries its definition"
    rows = {r[0]: r for r in wb["主要指标"].iter_rows(min_row=4, values_only=True)}
    assert rows["响应率"][1:3] == ("40.0%", "2/5")
    assert rows["满意率"][3] == "100.0%"  # March
    ranking = list(wb["下级单位排名"].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in ranking] == ["吴城村", "东坊村"]
    assert ranking[0][2 + 3] == 75.0  # on-time rate of 吴城村, as a number
    assert [r[0] for r in wb["通报"].iter_rows(min_row=2, values_only=True)] == ["吴城村"]
    assert len(list(wb["超期事件"].iter_rows(min_row=2))) == 2


def test_hotline_weekly_report_counts_only_12345_cases(april, django_capture_on_commit_callbacks):
    w = april.world
    with django_capture_on_commit_callbacks(execute=True):
        run = report_request(actor=w.zhang_wei, now=NOW, unit_id=w.township.pk, kind="hotline_weekly",
                             day=dt.date(2026, 4, 10))
    run.refresh_from_db()
    assert (run.period_start, run.period_end, run.status) == (dt.date(2026, 4, 6), dt.date(2026, 4, 12), "done")
    text = text_of(run.pdf.read())
    assert "12345政务服务便民热线诉求办理周报" in text and "“三率”情况" in text
    # Only c4 (hotline, Apr 10): one dispatch signed for in time.
    assert "100.0%" in text and "1/1" in text
    assert "受理12345热线转办诉求 1 件" in text
    assert "走访达标率" not in text  # the hotline report is about the hotline's cases only


def test_weekly_default_is_last_complete_week(april, django_capture_on_commit_callbacks):
    run = report_request(actor=april.world.zhang_wei, now=NOW, unit_id=april.world.township.pk, kind="weekly")
    assert (run.period_start, run.period_end) == (dt.date(2026, 4, 27), dt.date(2026, 5, 3))
    assert run.status == ReportStatus.QUEUED  # not generated before the transaction commits


def test_generation_is_safe_to_run_twice_and_records_failures(april, monkeypatch):
    w = april.world
    run = report_request(actor=w.zhang_wei, now=NOW, unit_id=w.township.pk, kind="monthly", day="2026-04-01")
    from gridgov.insights import reports

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(reports, "render_report_pdf", boom)
    failed = report_generate(run_id=run.pk, now=NOW)
    assert failed.status == ReportStatus.FAILED and "生成报表时出错" in failed.message
    assert not failed.pdf
    monkeypatch.undo()
    done = report_generate(run_id=run.pk, now=NOW)
    assert done.status == ReportStatus.DONE and done.pdf and done.xlsx
    name = done.pdf.name
    again = report_generate(run_id=run.pk, now=NOW)
    assert again.pdf.name == name  # a finished run is left alone


def test_bad_report_requests(april, login):
    w = april.world
    with pytest.raises(ValidationFailed, match="所选日期在未来"):
        report_request(actor=w.zhang_wei, now=NOW, unit_id=w.township.pk, kind="weekly", day="2026-06-01")
    with pytest.raises(ValidationFailed, match="请选择报表类型"):
        report_request(actor=w.zhang_wei, now=NOW, unit_id=w.township.pk, kind="daily")
    with pytest.raises(ValidationFailed, match="日期格式不正确"):
        report_request(actor=w.zhang_wei, now=NOW, unit_id=w.township.pk, kind="weekly", day="someday")
    with pytest.raises(NotFound):
        report_request(actor=w.sun_li, now=NOW, unit_id=w.township.pk, kind="weekly")
    r = login(w.zhang_wei).post("/dashboard/reports/", {"unit": w.township.pk, "kind": "weekly", "day": "2027-01-01"})
    assert r.status_code == 400 and "所选日期在未来" in r.content.decode()
    assert ReportRun.dangerously_unscoped.count() == 0


def test_reports_are_scoped(april, login, django_capture_on_commit_callbacks):
    w = april.world
    with django_capture_on_commit_callbacks(execute=True):
        run = report_request(actor=w.zhang_wei, now=NOW, unit_id=w.township.pk, kind="monthly", day="2026-04-01")
    for user in (w.sun_li, w.wang_fang, w.liu_yang):
        client = login(user)
        assert client.get(f"/dashboard/reports/{run.pk}/report.pdf").status_code == 404
        assert client.get(f"/dashboard/reports/{run.pk}/report.xlsx").status_code == 404
    assert login(w.sun_li).get(f"/dashboard/reports/?unit={w.township.pk}").status_code == 404
    assert "吴城乡月报" not in login(w.sun_li).get("/dashboard/reports/").content.decode()
    assert login(w.chen_jing).get(f"/dashboard/reports/{run.pk}/report.pdf").status_code == 200
    # the grid worker asks for their own grid's report
    with django_capture_on_commit_callbacks(execute=True):
        r = login(w.wang_fang).post("/dashboard/reports/", {"kind": "monthly", "day": "2026-04-01"})
    assert r.status_code == 302
    mine = ReportRun.dangerously_unscoped.exclude(pk=run.pk).get()
    assert mine.unit == w.grid_a1 and mine.status == "done"
