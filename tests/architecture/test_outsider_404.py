"""On every URL that names an object, the outsider (孙丽, township office of the sibling township
驼峰乡) gets 404 for an object of 吴城乡 — exactly as for one that does not exist.

Each URL parameter name must be registered in OBJECTS with a way to make an object of 吴城乡; a
new URL with an unregistered parameter fails this test until it is added here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.world import T0, World

pytestmark = pytest.mark.django_db

def _household(w: World) -> Any:
    from gridgov.residents import households, idnumber, members

    existing = getattr(w, "_outsider_household", None)
    if existing is None:
        existing = households.household_create(actor=None, now=T0, unit_id=w.grid_a1.pk, address="吴城村一组",
                                               house_number="99")
        members.resident_add(actor=None, now=T0, household_id=existing.pk, name="周到", relation="户主",
                             id_number=idnumber.make("140225", dt.date(1975, 4, 12), 311))
        w._outsider_household = existing  # type: ignore[attr-defined]
    return existing


def _tag_assignment(w: World) -> int:
    from gridgov.residents import tags

    return tags.tag_assign(actor=None, now=T0, tag_code="returnee_entrepreneur",
                           household_id=_household(w).pk).pk


def _import_job(w: World) -> int:
    from gridgov.residents.models import ImportJob

    return ImportJob.dangerously_unscoped.create(unit=w.township, created_by=w.zhang_wei, created_at=T0,
                                     filename="台账.xlsx", content=b"").pk


def _case(w: World) -> Any:
    from gridgov.cases.catalogue import seed_categories
    from gridgov.cases.intake import case_report
    from gridgov.cases.models import Category, default_deadlines

    existing = getattr(w, "_outsider_case", None)
    if existing is None:
        seed_categories(Category, default_deadlines())
        existing = case_report(actor=None, now=T0, title="路灯不亮", description="村口路灯坏了。",
                               category_code="livelihood", channel="public", unit_id=w.grid_a1.pk).case
        w._outsider_case = existing  # type: ignore[attr-defined]
    return existing


def _case_attachment(w: World) -> int:
    import io

    from gridgov.cases.attachments import attachment_add

    return attachment_add(actor=None, now=T0, case_id=_case(w).pk, stream=io.BytesIO(b"%PDF-1.4\n%%EOF"),
                          name="依据.pdf").pk


# parameter name → object of 吴城乡 (in scope for 张伟, out of scope for 孙丽)
OBJECTS: dict[str, Callable[[World], Any]] = {
    "unit_id": lambda w: w.grid_a1.pk,
    "department_id": lambda w: w.department.pk,
    "grant_id": lambda w: w.wang_fang.grants.get().pk,
    "household_id": lambda w: _household(w).pk,
    "resident_id": lambda w: _household(w).members.get().pk,
    "assignment_id": _tag_assignment,
    "job_id": _import_job,
    "case_id": lambda w: _case(w).pk,
    "attachment_id": _case_attachment,
    "action": lambda w: "accept",
    "kind": lambda w: "report",
    "report_id": lambda w: _report_of_township(w),
    "export_id": lambda w: _bulk_export(w),
    "session_id": lambda w: _staff_session(w),
    "token_id": lambda w: _api_token(w),
    "tag_id": lambda w: _tag(w),
    "proposal_id": lambda w: _proposal(w),
    "duty_item_id": lambda w: _duty_list(w).items.get().pk,
    "duty_list_id": lambda w: _duty_list(w).pk,
    "worker_id": lambda w: w.wang_fang.pk,
    "visit_id": lambda w: _visit(w),
    "campaign_id": lambda w: _visit_campaign(w),
    "rule_id": lambda w: _visit_rule(w),
    "mediation_id": lambda w: _mediation(w),
    "routine_id": lambda w: _routine(w),
    "notice_id": lambda w: _notice(w).pk,
    "delivery_id": lambda w: _notice_delivery(w).pk,
    "reply_id": lambda w: _notice_reply(w).pk,
}


def _notice(w: World) -> Any:
    """A notice of 吴城乡 to 吴城村, sent (so it has a delivery for the outsider's household)."""
    from gridgov.notices import services

    existing = getattr(w, "_outsider_notice", None)
    if existing is None:
        _household(w)
        existing = services.notice_create(actor=w.zhang_wei, now=T0, unit_id=w.township.pk, title="寒潮预警",
                                          text="今晚有寒潮。", unit_ids=[w.village.pk], reply_asked=True)
        services.notice_send(actor=w.zhang_wei, now=T0, notice_id=existing.pk)
        w._outsider_notice = existing  # type: ignore[attr-defined]
    return existing


def _notice_delivery(w: World) -> Any:
    from gridgov.notices.models import Delivery

    return Delivery.dangerously_unscoped.filter(notice=_notice(w)).first()


def _notice_reply(w: World) -> Any:
    from gridgov.notices import services
    from gridgov.notices.models import Reply

    existing = Reply.dangerously_unscoped.filter(notice=_notice(w)).first()
    return existing or services.public_reply(now=T0, token=_notice_delivery(w).token, kind="difficulty",
                                             text="家里没有取暖炉")


def _routine(w: World) -> Any:
    """A monthly talk day of 吴城村 (processes.routines)."""
    from gridgov.processes.routines import routine_create

    return routine_create(actor=w.li_qiang, now=T0, unit_id=w.village.pk, kind="talk_day", name="支部说事日",
                          rule="FREQ=MONTHLY;BYMONTHDAY=10", starts_on="2026-03-01").pk


def _duty_list(w: World) -> Any:
    """A list of 吴城乡 to 王芳 (A1), done with a photo (so the photo URL has a file)."""
    import io

    from PIL import Image

    from gridgov.workforce.services import duty_item_done, duty_list_issue

    existing = getattr(w, "_outsider_duty", None)
    if existing is None:
        existing = duty_list_issue(actor=None, now=T0, unit_id=w.township.pk, title="入户核查",
                                   due_at=T0 + dt.timedelta(days=3), evidence="photo", worker_ids=[w.wang_fang.pk])
        photo = io.BytesIO()
        Image.new("RGB", (8, 8)).save(photo, format="PNG")
        photo.seek(0)
        duty_item_done(actor=w.wang_fang, now=T0, item_id=existing.items.get().pk, photo=photo)
        w._outsider_duty = existing  # type: ignore[attr-defined]
    return existing

# Catalogue objects belong to no unit: whoever does not keep the catalogue gets 404 (the outsider and
# 张伟 alike), so the URL is shown reachable by its keeper instead.
INSIDER_FOR = {"tag_id": "chen_jing", "rule_id": "chen_jing"}


def _visit(w: World) -> int:
    """A visit to a household of A1, with a photo (so its photo URL exists for the insider)."""
    import io

    from PIL import Image

    from gridgov.core.clock import now
    from gridgov.visits.services import visit_record

    photo = io.BytesIO()
    Image.new("RGB", (4, 4)).save(photo, format="PNG")
    return visit_record(actor=w.wang_fang, now=now(), household_id=_household(w).pk, kind="home",
                        notes="身体尚可。", photo=photo.getvalue()).visit.pk


def _visit_campaign(w: World) -> int:
    from gridgov.visits.models import VisitCampaign

    return VisitCampaign.dangerously_unscoped.create(unit=w.village, unit_path=w.village.path, name="集中走访",
                                         starts_on=T0.date(), ends_on=T0.date(), created_by=w.li_qiang,
                                         created_at=T0).pk


def _visit_rule(w: World) -> int:
    """A rule of the township 吴城乡 (the county's own rules apply to the sibling township too)."""
    from gridgov.residents.models import Tag
    from gridgov.visits.models import VisitRule

    return VisitRule.dangerously_unscoped.create(unit=w.township, unit_path=w.township.path,
                                                 tag=Tag.objects.get(code="dibao"),
                                     cadence_days=30, created_at=T0, updated_at=T0).pk


def _proposal(w: World) -> int:
    from gridgov.deliberation.services import proposal_raise

    return proposal_raise(actor=None, now=T0, unit_id=w.village.pk, title="修村东道路", description="土路难走。",
                          category="infrastructure", source="visit", raiser_name="王大山").pk


def _mediation(w: World) -> int:
    """A mediation of 吴城乡 with a signed agreement (so its printed 调解协议书 exists)."""
    from gridgov.mediation import services

    existing = getattr(w, "_outsider_mediation", None)
    if existing is None:
        m = services.mediation_register(
            actor=None, now=T0, title="宅基地边界纠纷", summary="两户院墙位置争执。", dispute_type="land",
            source="grid", mode="people", level="township", unit_id=w.grid_a1.pk, presiding_id=w.zhang_wei.pk,
            parties=[{"role": "applicant", "name": "张建国", "phone": "13812345678"},
                     {"role": "respondent", "name": "李卫东"}])
        later = T0 + dt.timedelta(days=1)
        for action, params in (("start", {"rights_informed": True, "facts": "已核实。"}),
                               ("record_session", {"held_on": later.date(), "place": "调解室",
                                                   "attendees": "双方", "notes": "达成一致。"}),
                               ("agree", {"terms": "以原界桩为准。", "signed": True})):
            m = services.mediation_act(actor=None, now=later, mediation_id=m.pk, action=action, **params)
        existing = w._outsider_mediation = m.pk  # type: ignore[attr-defined]
    return existing


def _tag(w: World) -> int:
    from gridgov.residents.models import Tag

    return Tag.objects.get(code="dibao").pk


def _staff_session(w: World) -> int:
    from gridgov.access.models import StaffSession

    return StaffSession.objects.create(user=w.zhang_wei, sid="outsider-test-session", session_key="gone",
                                       started_at=T0).pk


def _api_token(w: World) -> int:
    from gridgov.access.tokens import token_create

    return token_create(actor=w.zhang_wei, now=T0, name="手机 App")[0].pk


def _bulk_export(w: World) -> int:
    from gridgov.residents.models import BulkExport

    return BulkExport.dangerously_unscoped.create(unit_path=w.township.path, paths=[w.township.path], row_count=600,
                                      requested_by=w.zhang_wei, requested_at=T0, reason="低保复核").pk


def _report_of_township(w: World) -> int:
    from gridgov.insights.services import report_generate, report_request
    from tests.world import T0

    run = report_request(actor=w.zhang_wei, now=T0, unit_id=w.township.pk, kind="weekly")
    return report_generate(run_id=run.pk, now=T0).pk



SKIP_PREFIXES = ("support/",)  # the Django admin: staff-only, its own permission checks


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, list[str]]]:
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            if getattr(p.callback, "gridgov_access", None) == "public":
                continue  # public pages are the same for everyone; they carry no personal data
            params = re.findall(r"<(?:\w+:)?(\w+)>", route)
            if params:
                yield route, params


def fill(route: str, values: dict[str, Any]) -> str:
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    return "/" + route.lstrip("^").rstrip("$")


def object_routes() -> list[tuple[str, list[str]]]:
    return [(r, ps) for r, ps in walk(get_resolver().url_patterns) if not r.startswith(SKIP_PREFIXES)]


def test_every_object_parameter_is_registered():
    unknown = {p for _, params in object_routes() for p in params if p not in OBJECTS}
    assert not unknown, f"register these URL parameters in OBJECTS: {sorted(unknown)}"


def test_outsider_gets_404_on_every_object_url(world, login):
    values = {name: make(world) for name, make in OBJECTS.items()}
    outsider = login(world.sun_li)
    insider = login(world.zhang_wei)
    checked = 0
    for route, params in object_routes():
        if any(p not in values for p in params):
            continue
        url = fill(route, {p: values[p] for p in params})
        missing_url = fill(route, dict.fromkeys(params, 987654321))
        response = outsider.get(url)
        if response.status_code == 405:
            # A write-only endpoint: whatever the outsider gets must be exactly what a missing
            # object gets (a 404, or a 4xx from input checks that come before the lookup).
            for method in ("post", "patch", "put", "delete"):
                send = getattr(outsider, method)
                kwargs = {} if method == "post" else {"data": "{}", "content_type": "application/json"}
                response = send(url, **kwargs)
                if response.status_code != 405:
                    break
            missing = send(missing_url, **kwargs)
            assert response.status_code in (400, 404, 422), f"{method} {url}: outsider got {response.status_code}"
            assert (response.status_code, response.content) == (missing.status_code, missing.content), url
        else:
            assert response.status_code == 404, f"{url}: outsider got {response.status_code}"
            missing = outsider.get(missing_url)
            assert (response.status_code, response.content) == (missing.status_code, missing.content), url
        # The same URL is reachable in principle: the township office of 吴城乡 does not get 404
        # for a GET view (so the 404 above comes from scope, not from a broken route).
        keeper = next((INSIDER_FOR[p] for p in params if p in INSIDER_FOR), None)
        inside = (login(getattr(world, keeper)) if keeper else insider).get(url)
        assert inside.status_code != 404 or "revoke" in route or "delete" in route, f"{url}: insider got 404"
        checked += 1
    assert checked >= 3
