"""Recording a visit: sealed notes, one visit per idempotency key, photos checked by content, a problem
raised as a case in the same transaction, and every refusal leaving nothing written."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.cases.models import Case
from gridgov.core.errors import Conflict, PermissionDenied, ValidationFailed
from gridgov.processes.visit_cases import raise_case_from_visit
from gridgov.visits import services
from gridgov.visits.models import Visit
from tests.visits.conftest import NOW, png

pytestmark = pytest.mark.django_db

NOTES = "老人血压偏高，低保金按时到账。"


def counts() -> tuple[int, int, int]:
    return (
        Visit.dangerously_unscoped.count(),
        Case.dangerously_unscoped.count(),
        AuditEvent.objects.filter(action__startswith="visit").count(),
    )


def test_a_visit_is_logged_with_its_notes_sealed_and_audited(vw):
    visit = vw.record(lat=39.05, lng=113.05)
    visit.refresh_from_db()
    assert (visit.household_id, visit.unit_id, visit.visitor_id, visit.kind) == (
        vw.a1.pk,
        vw.w.grid_a1.pk,
        vw.w.wang_fang.pk,
        "home",
    )
    assert visit.visited_at == NOW and visit.unit_path == vw.w.grid_a1.path
    assert NOTES not in visit.notes_cipher and visit.notes_cipher.startswith("v1:")
    assert visit.notes_length == len(NOTES)
    row = AuditEvent.objects.get(action="visit.record")
    assert row.object_id == str(visit.pk) and row.unit_path == vw.w.grid_a1.path
    assert NOTES not in str(row.detail) and row.detail["notes_length"] == len(NOTES)


def test_reading_the_notes_is_audited_each_time(vw):
    from gridgov.access.scope import scope_for

    visit = vw.record()
    scope = scope_for(vw.w.li_qiang)
    assert services.visit_notes_read(actor=vw.w.li_qiang, now=NOW, scope=scope, visit=visit) == NOTES
    services.visit_notes_read(actor=vw.w.li_qiang, now=NOW, scope=scope, visit=visit)
    views = AuditEvent.objects.filter(action="visit.notes_view", actor_id=vw.w.li_qiang.pk)
    assert views.count() == 2 and views.first().object_id == str(visit.pk)


def test_a_retry_with_the_same_key_makes_exactly_one_visit(vw):
    first = services.visit_record(
        actor=vw.w.wang_fang, now=NOW, household_id=vw.a1.pk, kind="home", notes=NOTES, idempotency_key="k-1"
    )
    again = services.visit_record(
        actor=vw.w.wang_fang,
        now=NOW + dt.timedelta(minutes=3),
        household_id=vw.a1.pk,
        kind="home",
        notes=NOTES,
        idempotency_key="k-1",
    )
    assert first.created and not again.created and again.visit.pk == first.visit.pk
    assert Visit.dangerously_unscoped.count() == 1
    assert AuditEvent.objects.filter(action="visit.record").count() == 1


def test_the_same_key_with_other_content_is_a_conflict_and_writes_nothing(vw):
    services.visit_record(
        actor=vw.w.wang_fang, now=NOW, household_id=vw.a1.pk, kind="home", notes=NOTES, idempotency_key="k-2"
    )
    before = counts()
    with pytest.raises(Conflict) as exc:
        services.visit_record(
            actor=vw.w.wang_fang, now=NOW, household_id=vw.a1.pk, kind="phone", notes=NOTES, idempotency_key="k-2"
        )
    assert "幂等键" in exc.value.message
    assert counts() == before


def test_keys_belong_to_their_user(vw):
    a = services.visit_record(actor=vw.w.wang_fang, now=NOW, household_id=vw.a1.pk, kind="home", idempotency_key="x")
    b = services.visit_record(actor=vw.w.zhao_lei, now=NOW, household_id=vw.a1.pk, kind="home", idempotency_key="x")
    assert a.visit.pk != b.visit.pk and b.created


def test_a_photo_is_checked_by_content_and_size(vw):
    visit = vw.record(photo=png())
    assert visit.photo_type == "image/png" and visit.photo_size > 0 and visit.photo.name.endswith(".png")
    before = counts()
    for data, message in (
        (b"GIF89a not really", "只能上传"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 40, "已损坏"),
        (b"", "空的"),
        (b"\xff\xd8\xff" + b"0" * (8 * 1024 * 1024), "不能超过"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            vw.record(photo=data)
        assert message in exc.value.message and exc.value.field == "photo"
    assert counts() == before


def test_a_problem_found_becomes_a_linked_case(vw):
    problem = services.ProblemReport(
        title="屋顶漏雨", description="老人家里屋顶漏雨，需要维修。", category_code="sanitation"
    )
    result = services.visit_record(
        actor=vw.w.wang_fang,
        now=NOW,
        household_id=vw.a1.pk,
        kind="home",
        notes=NOTES,
        problem=problem,
        idempotency_key="p-1",
        raise_case=raise_case_from_visit,
    )
    visit = result.visit
    case = Case.dangerously_unscoped.get(pk=visit.case_id)
    assert visit.problem_found and visit.case_number == case.number
    assert (case.channel, case.household_id, case.unit_id, case.reported_by_id) == (
        "visit",
        vw.a1.pk,
        vw.w.grid_a1.pk,
        vw.w.wang_fang.pk,
    )
    # A retry after a lost response: still one visit and one case.
    again = services.visit_record(
        actor=vw.w.wang_fang,
        now=NOW,
        household_id=vw.a1.pk,
        kind="home",
        notes=NOTES,
        problem=problem,
        idempotency_key="p-1",
        raise_case=raise_case_from_visit,
    )
    assert again.visit.pk == visit.pk and Case.dangerously_unscoped.count() == 1


def test_a_refused_case_leaves_no_visit_behind(vw):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.visit_record(
            actor=vw.w.wang_fang,
            now=NOW,
            household_id=vw.a1.pk,
            kind="home",
            notes=NOTES,
            problem=services.ProblemReport(title="屋顶漏雨", description="漏雨", category_code="nope"),
            raise_case=raise_case_from_visit,
        )
    assert "类别" in exc.value.message
    assert counts() == before


@pytest.mark.parametrize(
    ("kw", "field", "words"),
    [
        ({"kind": "walk"}, "kind", "走访方式"),
        ({"visited_at": dt.datetime(2026, 3, 17, 2, 0, tzinfo=dt.UTC)}, "visited_at", "不能晚于现在"),
        ({"visited_at": "2026-01-01T10:00"}, "visited_at", "30 天"),
        ({"visited_at": "昨天"}, "visited_at", "格式"),
        ({"notes": "很" * 2001}, "notes", "2000"),
        ({"lat": 39.0}, "location", "经度和纬度"),
        ({"lat": 95.0, "lng": 113.0}, "location", "超出范围"),
        ({"kind": "campaign"}, "kind", "没有进行中的集中走访"),
        ({"idempotency_key": "k" * 81}, "idempotency_key", "80"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_writes_nothing(vw, kw, field, words):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        vw.record(**kw)
    assert exc.value.field == field and words in exc.value.message
    assert counts() == before


def test_who_may_record(vw):
    # 钱多 (A2) cannot see A1's households; the department handler records no visits.
    with pytest.raises(ValidationFailed):
        vw.record(actor=vw.w.qian_duo)
    with pytest.raises(PermissionDenied):
        vw.record(actor=vw.w.liu_yang)
    with pytest.raises(ValidationFailed):
        vw.record(actor=vw.w.sun_li)
    # The village secretary and the township office may.
    assert vw.record(actor=vw.w.li_qiang).visitor_id == vw.w.li_qiang.pk
    assert vw.record(actor=vw.w.zhang_wei).visitor_id == vw.w.zhang_wei.pk


def test_a_household_that_left_the_ledger_gets_no_visit(vw):
    from gridgov.residents.households import household_set_status

    household_set_status(actor=None, now=NOW, household_id=vw.a1_plain.pk, status="moved_out", reason="全家搬到县城")
    with pytest.raises(ValidationFailed) as exc:
        vw.record(household=vw.a1_plain)
    assert "已迁出" in exc.value.message


def test_a_purged_households_visit_photos_go_with_it(vw, settings, tmp_path, django_capture_on_commit_callbacks):
    """Issue 7: residents moved out are purged on the configured schedule, with their files."""
    import datetime as dt

    from gridgov.access.policy import policy_update
    from gridgov.residents import retention
    from gridgov.residents.households import household_set_status
    from gridgov.residents.members import resident_set_status
    from gridgov.visits.models import Visit

    settings.MEDIA_ROOT = tmp_path
    visit = vw.record(photo=png())
    path = tmp_path / visit.photo.name
    assert path.exists()
    policy_update(actor=vw.w.zheng_hong, now=NOW, resident_retention_days=180)
    for r in vw.a1.members.all():
        resident_set_status(actor=None, now=NOW, resident_id=r.pk, status="moved_out", reason="迁出")
    household_set_status(actor=None, now=NOW, household_id=vw.a1.pk, status="moved_out", reason="整户迁出")
    with django_capture_on_commit_callbacks(execute=True):
        retention.retention_run(now=NOW + dt.timedelta(days=181))
    assert not Visit.dangerously_unscoped.filter(pk=visit.pk).exists()
    assert not path.exists()
