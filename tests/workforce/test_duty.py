"""Duty lists: issued by an office to units or named workers; done with the evidence asked for
(photos checked by content and size); confirmed or returned by the issuer; overdue by the sweep.
Every change writes a history row and an audit row; a refusal writes nothing."""

from __future__ import annotations

import io

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.workforce import services
from gridgov.workforce.models import DutyEvent, DutyItem, DutyList, PointEntry
from tests.workforce.conftest import DAY, issue, jpeg
from tests.world import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def test_issue_to_units_and_named_workers_makes_one_item_each_audited(world):
    duty = issue(world, to_units=[world.grid_b1], to_workers=[world.wang_fang, world.qian_duo])
    items = DutyItem.dangerously_unscoped.filter(duty_list=duty)
    assert items.count() == 3
    assert items.get(assignee=world.wang_fang).unit == world.grid_a1
    assert items.get(assignee__isnull=True).unit == world.grid_b1
    assert set(items.values_list("state", flat=True)) == {"issued"}
    assert DutyEvent.objects.filter(item__duty_list=duty, action="issue").count() == 3
    event = AuditEvent.objects.get(action="duty.issue")
    assert event.actor == world.zhang_wei and event.object_id == str(duty.pk)


@pytest.mark.parametrize("bad", ["outside_unit", "outside_worker", "nothing", "past_due", "no_title"])
def test_issuing_refusals_write_nothing(world, bad):
    kw = {"to_units": [world.grid_a1]}
    if bad == "outside_unit":
        kw = {"to_units": [world.grid_c1]}
    elif bad == "outside_worker":
        from gridgov.access.services import grant_create, user_create
        stranger = user_create(actor=None, now=T0, username="x1", full_name="外乡网格员", password=None)
        grant_create(actor=None, now=T0, user=stranger, role_code="grid_worker_full", unit=world.grid_c1)
        kw = {"to_workers": [stranger]}
    elif bad == "nothing":
        kw = {}
    elif bad == "past_due":
        kw["due"] = T0 - DAY
    with pytest.raises(ValidationFailed):
        issue(world, title="" if bad == "no_title" else "入户核查", **kw)
    assert DutyList.dangerously_unscoped.count() == 0 and DutyItem.dangerously_unscoped.count() == 0
    assert not AuditEvent.objects.filter(action="duty.issue").exists()


def test_only_issuers_issue_and_out_of_scope_is_not_found(world):
    with pytest.raises(NotFound):  # the township is out of the grid worker's sight
        issue(world, to_units=[world.grid_a1], actor=world.wang_fang)
    with pytest.raises(NotFound):
        issue(world, to_units=[world.grid_a1], actor=world.sun_li)
    # The village secretary issues within the village (to its grids), not at the township.
    duty = services.duty_list_issue(actor=world.li_qiang, now=T0, unit_id=world.village.pk, title="清理河道",
                                    due_at=T0 + DAY, target_unit_ids=[world.grid_a1.pk, world.grid_a2.pk])
    assert duty.items.count() == 2


def test_grid_worker_cannot_issue_even_at_own_grid(world):
    with pytest.raises(PermissionDenied):
        services.duty_list_issue(actor=world.wang_fang, now=T0, unit_id=world.grid_a1.pk, title="自己下发",
                                 due_at=T0 + DAY, target_unit_ids=[], worker_ids=[world.wang_fang.pk])


def test_done_with_text_then_confirmed_on_time_scores_the_worker(world, rules):
    duty = issue(world, to_workers=[world.wang_fang])
    item = duty.items.get()
    done = services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=item.pk, text="已核查 12 户，无变化。")
    assert done.state == "done" and done.on_time
    assert AuditEvent.objects.filter(action="duty.done", object_id=str(item.pk)).exists()
    # Confirmed after the due time: the work was on time, so the on-time points are earned.
    confirmed = services.duty_item_confirm(actor=world.zhang_wei, now=T0 + 5 * DAY, item_id=item.pk)
    assert confirmed.state == "confirmed"
    entry = PointEntry.dangerously_unscoped.get(worker=world.wang_fang)
    assert entry.points == 3 and entry.kind == "duty_on_time" and "入户核查低保户" in entry.reason
    assert [e.action for e in DutyEvent.objects.filter(item=item)] == ["issue", "done", "confirm"]


def test_only_the_named_worker_marks_a_named_item(world):
    duty = issue(world, to_workers=[world.wang_fang])
    item = duty.items.get()
    with pytest.raises(PermissionDenied):
        services.duty_item_done(actor=world.li_qiang, now=T0 + DAY, item_id=item.pk, text="替她完成了。")
    with pytest.raises(NotFound):
        services.duty_item_done(actor=world.qian_duo, now=T0 + DAY, item_id=item.pk, text="不是我的任务。")
    assert DutyItem.dangerously_unscoped.get(pk=item.pk).state == "issued"


def test_a_units_item_is_done_by_anyone_doing_duty_work_there(world):
    duty = issue(world, to_units=[world.grid_a1])
    item = duty.items.get()
    with pytest.raises(NotFound):
        services.duty_item_done(actor=world.qian_duo, now=T0 + DAY, item_id=item.pk, text="A2 的人来做")
    done = services.duty_item_done(actor=world.zhao_lei, now=T0 + DAY, item_id=item.pk, text="网格长已完成。")
    assert done.done_by == world.zhao_lei


def test_photo_evidence_checked_by_content_and_size(world):
    duty = issue(world, to_workers=[world.wang_fang], evidence="text_photo")
    item = duty.items.get()
    with pytest.raises(ValidationFailed, match="照片"):
        services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=item.pk, text="已完成检查。")
    with pytest.raises(ValidationFailed, match="JPG"):
        services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=item.pk, text="已完成检查。",
                                photo=io.BytesIO(b"MZ\x90\x00 not a photo"))
    with pytest.raises(ValidationFailed, match="损坏"):
        services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=item.pk, text="已完成检查。",
                                photo=io.BytesIO(b"\xff\xd8\xff\xe0" + b"0" * 100))
    with pytest.raises(ValidationFailed, match="MB"):
        services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=item.pk, text="已完成检查。",
                                photo=io.BytesIO(b"\xff\xd8\xff" + b"0" * services.MAX_PHOTO_BYTES))
    assert DutyItem.dangerously_unscoped.get(pk=item.pk).state == "issued"
    assert not AuditEvent.objects.filter(action="duty.done").exists()
    done = services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=item.pk, text="已完成检查。",
                                   photo=jpeg())
    assert done.evidence_type == "image/jpeg" and done.evidence_size > 0 and done.evidence_photo.name


def test_text_evidence_required_and_limited(world):
    item = issue(world, to_workers=[world.wang_fang]).items.get()
    for text in ("", "好", "字" * 1001, "有\x00空字符的说明"):
        with pytest.raises(ValidationFailed):
            services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=item.pk, text=text)
    assert DutyItem.dangerously_unscoped.get(pk=item.pk).state == "issued"


def test_sweep_marks_overdue_once_deducts_named_worker_and_late_work_earns_nothing(world, rules):
    duty = issue(world, to_workers=[world.wang_fang], to_units=[world.grid_b1])
    assert services.duty_sweep(now=T0 + 2 * DAY) == 0
    assert services.duty_sweep(now=T0 + 4 * DAY) == 2
    assert services.duty_sweep(now=T0 + 5 * DAY) == 0
    item = duty.items.get(assignee=world.wang_fang)
    assert DutyItem.dangerously_unscoped.get(pk=item.pk).state == "overdue"
    deduction = PointEntry.dangerously_unscoped.get(worker=world.wang_fang)
    assert deduction.points == -1 and deduction.kind == "duty_overdue"
    services.duty_item_done(actor=world.wang_fang, now=T0 + 5 * DAY, item_id=item.pk, text="补做完成。")
    late = services.duty_item_confirm(actor=world.zhang_wei, now=T0 + 6 * DAY, item_id=item.pk)
    assert late.state == "confirmed" and not late.on_time
    assert PointEntry.dangerously_unscoped.filter(worker=world.wang_fang).count() == 1


def test_return_reopens_and_confirm_needs_the_issuer(world):
    item = issue(world, to_workers=[world.wang_fang]).items.get()
    services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=item.pk, text="已核查完毕。")
    with pytest.raises(PermissionDenied):
        services.duty_item_confirm(actor=world.li_qiang, now=T0 + DAY, item_id=item.pk)
    with pytest.raises(ValidationFailed):
        services.duty_item_return(actor=world.zhang_wei, now=T0 + DAY, item_id=item.pk, reason="")
    back = services.duty_item_return(actor=world.zhang_wei, now=T0 + DAY, item_id=item.pk, reason="缺少户数明细")
    assert back.state == "issued" and back.done_at is None
    with pytest.raises(Conflict):
        services.duty_item_confirm(actor=world.zhang_wei, now=T0 + DAY, item_id=item.pk)
    assert AuditEvent.objects.filter(action="duty.return").count() == 1


def test_withdraw_closes_open_items_keeps_done_ones(world):
    duty = issue(world, to_workers=[world.wang_fang, world.qian_duo])
    first = duty.items.get(assignee=world.wang_fang)
    services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=first.pk, text="已核查完毕。")
    services.duty_list_withdraw(actor=world.zhang_wei, now=T0 + DAY, list_id=duty.pk, reason="任务重复下发")
    states = dict(duty.items.values_list("assignee__username", "state"))
    assert states == {"wangfang": "done", "qianduo": "withdrawn"}
    with pytest.raises(NotFound):
        services.duty_list_withdraw(actor=world.sun_li, now=T0 + DAY, list_id=duty.pk, reason="外乡人撤回")
