"""Staff pages of deliberation, read by the named personas: who sees which proposal (out of scope is
404 exactly like missing), the forms of each stage, the vote sheet, and the printed notice."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.access.services import grant_create, user_create
from gridgov.audit.models import AuditEvent
from gridgov.core.clock import now
from gridgov.deliberation import services
from gridgov.deliberation.models import Ballot, Proposal, Voter
from gridgov.deliberation.states import Stage
from tests.boards.test_boards import embedded_fonts, page_text, save
from tests.deliberation.conftest import REPRESENTATIVES, T_VOTE
from tests.world import T0

pytestmark = pytest.mark.django_db


def _other_secretary(world):
    user = user_create(actor=None, now=T0, username="dongfang", full_name="东坊书记", password=None)
    grant_create(actor=None, now=T0, user=user, role_code="village_secretary", unit=world.village_b)
    return user


def _pages(p: Proposal) -> list[str]:
    return [f"/deliberation/{p.pk}/", f"/deliberation/{p.pk}/vote/", f"/deliberation/{p.pk}/notice.pdf?kind=matter"]


def test_personas_on_a_village_proposal(kit, login):
    w = kit.world
    p = kit.to_stage(Stage.PUBLISHING)
    expected = {  # persona → sees 吴城村's proposal?
        "village_secretary": True, "township_office": True, "county_office": True,
        "grid_worker": False, "grid_head": False, "department_handler": False, "outsider": False,
    }
    people = w.personas() | {"other_village_secretary": _other_secretary(w)}
    expected["other_village_secretary"] = False
    missing = Proposal(pk=987654321)
    for name, user in people.items():
        c = login(user)
        listing = c.get("/deliberation/?stage=all")
        if name == "department_handler":
            assert listing.status_code == 403, name
        else:
            assert listing.status_code == 200, name
            assert (p.title in listing.content.decode()) is expected[name], name
        for url, missing_url in zip(_pages(p), _pages(missing), strict=True):
            r = c.get(url)
            if expected[name]:
                assert r.status_code == 200, (name, url, r.status_code)
            else:
                gone = c.get(missing_url)
                assert r.status_code == 404, (name, url, r.status_code)
                assert (r.status_code, r.content) == (gone.status_code, gone.content), (name, url)
            # Nobody may act on what they cannot see; only those who run it may act at all.
        post = c.post(f"/deliberation/{p.pk}/act/", {"action": "withdraw", "reason": "测试"})
        if expected[name]:
            assert post.status_code == 302, name
        else:
            assert post.status_code == 404, name
    # The withdrawal by the first persona who could act went through once; the rest found it withdrawn.
    assert Proposal.dangerously_unscoped.get(pk=p.pk).stage == Stage.WITHDRAWN


def test_a_grid_proposal_is_seen_by_its_grid_worker_who_cannot_run_it(kit, login):
    w = kit.world
    p = kit.raise_(actor=w.wang_fang, unit_id=w.grid_a1.pk, title="A1 网格装路灯", raiser_name="")
    c = login(w.wang_fang)
    page = c.get(f"/deliberation/{p.pk}/")
    assert page.status_code == 200 and "A1 网格装路灯" in page.content.decode()
    assert "现在可以" not in page.content.decode()
    c.post(f"/deliberation/{p.pk}/act/", {"action": "start_consult"})
    assert Proposal.dangerously_unscoped.get(pk=p.pk).stage == Stage.PROPOSED
    assert login(w.qian_duo).get(f"/deliberation/{p.pk}/").status_code == 404  # grid A2's worker


def test_raise_form_refuses_bad_input_in_chinese_and_writes_nothing(kit, login):
    c = login(kit.world.li_qiang)
    r = c.post("/deliberation/new/", {"unit_id": kit.world.village.pk, "title": "", "description": "x",
                                      "category": "infrastructure", "source": "visit"})
    assert r.status_code == 200 and "请填写议题" in r.content.decode()
    assert not Proposal.dangerously_unscoped.exists()
    r = c.post("/deliberation/new/", {"unit_id": kit.world.village.pk, "title": "修水渠", "description": "水渠塌了",
                                      "category": "infrastructure", "source": "visit", "raiser_name": "王大山"})
    p = Proposal.dangerously_unscoped.get()
    assert r.status_code == 302 and r["Location"] == f"/deliberation/{p.pk}/"
    detail = c.get(r["Location"]).content.decode()
    assert "王**" in detail and "王大山" not in detail
    assert "提事" in detail and "谋事" in detail and "评事" in detail


def test_stage_forms_and_the_vote_sheet_through_the_pages(kit, login):
    c = login(kit.world.li_qiang)
    p = kit.to_stage(Stage.CONSULTING)
    r = c.post(f"/deliberation/{p.pk}/act/", {"action": "publish", "notice_text": "拟硬化道路", "days": "3"},
               follow=True)
    assert "5 到 30" in r.content.decode()
    c.post(f"/deliberation/{p.pk}/act/", {"action": "publish", "notice_text": "拟硬化道路", "days": "5"})
    p = Proposal.dangerously_unscoped.get(pk=p.pk)
    assert p.stage == Stage.PUBLISHING and (p.notice_end - p.notice_start).days == 4
    detail = c.get(f"/deliberation/{p.pk}/").content.decode()
    assert 'data-action="open_vote"' in detail and 'data-action="withdraw"' in detail
    # Too early: the notice period runs; the refusal is shown, nothing changes.
    r = c.post(f"/deliberation/{p.pk}/act/", {"action": "open_vote", "body": "representatives", "mode": "ballots",
                                              "voters": "\n".join(REPRESENTATIVES)}, follow=True)
    assert "公示期未满" in r.content.decode()
    assert Proposal.dangerously_unscoped.get(pk=p.pk).stage == Stage.PUBLISHING
    p = services.proposal_act(actor=kit.world.li_qiang, now=now() + dt.timedelta(days=6), proposal_id=p.pk,
                              action="open_vote", body="representatives", voters="\n".join(REPRESENTATIVES))
    sheet = c.get(f"/deliberation/{p.pk}/vote/").content.decode()
    assert "应到 <b>7</b> 人" in sheet and "张**" in sheet and "张三丰" not in sheet
    assert "至少 4 人到会" in sheet
    voters = list(Voter.dangerously_unscoped.filter(meeting__proposal=p).order_by("seq"))
    for v in voters[:4]:
        r = c.post(f"/deliberation/{p.pk}/vote/", {"voter_id": v.pk, "choice": "for", "anchor": f"#v{v.seq}"})
        assert r.status_code == 302 and r["Location"].endswith(f"#v{v.seq}")
    again = c.post(f"/deliberation/{p.pk}/vote/", {"voter_id": voters[0].pk, "choice": "against"}, follow=True)
    assert "不能重复投票" in again.content.decode()
    assert Ballot.dangerously_unscoped.filter(meeting__proposal=p).count() == 4
    bad = c.post(f"/deliberation/{p.pk}/vote/", {"voter_id": "x", "choice": "for"}, follow=True)
    assert "请选择代表" in bad.content.decode()
    sheet = c.get(f"/deliberation/{p.pk}/vote/").content.decode()
    assert "按目前票数：通过" in sheet
    c.post(f"/deliberation/{p.pk}/act/", {"action": "close_vote"})
    p = Proposal.dangerously_unscoped.get(pk=p.pk)
    assert p.stage == Stage.IMPLEMENTING and p.result == "passed"
    assert "现在没有正在进行的表决" in c.get(f"/deliberation/{p.pk}/vote/").content.decode()


def test_printed_notices_embed_chinese_fonts_carry_no_names_and_are_audited(kit, login):
    c = login(kit.world.li_qiang)
    p = kit.to_stage(Stage.EVALUATING)
    for kind in ("matter", "result", "implementation"):
        r = c.get(f"/deliberation/{p.pk}/notice.pdf?kind={kind}")
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf", kind
        assert r.content.startswith(b"%PDF"), kind
        assert any("Noto" in f and "CJK" in f for f in embedded_fonts(r.content)), kind
        assert "王大山" not in r.content.decode("latin-1")
        save(r.content, f"deliberation_notice_{kind}")
        assert p.title in page_text(r.content).replace(" ", ""), kind
    audits = AuditEvent.objects.filter(action="deliberation.print").order_by("id")
    assert [a.detail["kind"] for a in audits] == ["matter", "result", "implementation"]
    # Not yet published: back to the page with a message, no PDF, nothing audited.
    fresh = kit.raise_()
    r = c.get(f"/deliberation/{fresh.pk}/notice.pdf", follow=True)
    assert "还没有公示" in r.content.decode()
    assert AuditEvent.objects.filter(action="deliberation.print").count() == 3


def test_list_filters_by_stage_and_unit(kit, login):
    w = kit.world
    a = kit.raise_(title="村东道路")
    kit.to_stage(Stage.IMPLEMENTING)
    b = kit.raise_(unit_id=w.village_b.pk, title="东坊水井", actor=w.zhang_wei)
    c = login(w.zhang_wei)
    page = c.get("/deliberation/?stage=proposed").content.decode()
    assert "村东道路" in page and "东坊水井" in page and "硬化村东组道路" not in page
    page = c.get(f"/deliberation/?stage=proposed&unit={w.village_b.pk}").content.decode()
    assert "东坊水井" in page and "村东道路" not in page
    page = c.get("/deliberation/?stage=implementing").content.decode()
    assert "硬化村东组道路" in page
    assert a.pk != b.pk
    assert T_VOTE > T0
