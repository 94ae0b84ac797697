"""The party-member linked-households board (党员联系户公示) and the per-household card run: real PDFs
with embedded Chinese fonts, only what a board posted in the village may show, scoped and audited."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pypdfium2
import pytest
import zxingcpp

from gridgov.audit.models import AuditEvent
from gridgov.interfaces.public.links import grid_url
from gridgov.residents.caretakers import assignment_end, household_link_party_member
from gridgov.residents.households import household_create
from gridgov.residents.members import resident_add
from gridgov.residents.models import Household, HouseholdAssignment
from gridgov.residents.selectors import masked_name
from gridgov.residents.tags import tag_assign
from tests.boards.test_boards import embedded_fonts, page_text, qr_codes, save
from tests.residents.conftest import make_id
from tests.world import T0, World

pytestmark = pytest.mark.django_db


@dataclass
class Links:
    wang: Household  # 王建国, 一组 12 号: 低保户, phone on file
    ouyang: Household  # 欧阳春花, 一组 14 号
    li_home: Household  # the party member 李卫东's own household, 一组 3 号
    ended: Household  # 一组 20 号: its link was ended, so it is not on the board
    other_grid: Household  # in 吴城村第二网格
    secrets: list[str]  # what must never be printed


def _household(grid, address: str, no: str, head: str, id_number: str, phone: str = "", **kw) -> Household:  # type: ignore[no-untyped-def]
    h = household_create(actor=None, now=T0, unit_id=grid.pk, address=address, house_number=no)
    resident_add(actor=None, now=T0, household_id=h.pk, name=head, id_number=id_number, relation="户主",
                          phone=phone, **kw)
    return h


@pytest.fixture
def links(world: World) -> Links:
    a1, a2 = world.grid_a1, world.grid_a2
    wang_id, ouyang_id, li_id = make_id(dt.date(1958, 3, 1), 11), make_id(dt.date(1949, 8, 8), 22), \
        make_id(dt.date(1972, 5, 4), 33)
    wang = _household(a1, "吴城村一组", "12", "王建国", wang_id, "13812345678")
    tag_assign(actor=None, now=T0, tag_code="dibao", household_id=wang.pk)
    ouyang = _household(a1, "吴城村一组", "14", "欧阳春花", ouyang_id, "13900002222")
    li_home = _household(a1, "吴城村一组", "3", "李卫东", li_id, "13700003333", political_status="中共党员")
    ended = _household(a1, "吴城村一组", "20", "钱有福", make_id(dt.date(1966, 1, 1), 44))
    other = _household(a2, "吴城村二组", "7", "孙大山", make_id(dt.date(1970, 2, 2), 55))
    li = li_home.members.get()
    for h in (wang, ouyang, ended):
        household_link_party_member(actor=None, now=T0, household_id=h.pk, party_member_id=li.pk)
    # A party member who is a staff account (the grid head 赵磊) links a household too.
    HouseholdAssignment.dangerously_unscoped.create(household=ouyang, kind="party_member", user=world.zhao_lei,
                                                    started_at=T0)
    link = HouseholdAssignment.dangerously_unscoped.get(household=ended, kind="party_member")
    assignment_end(actor=None, now=T0, assignment_id=link.pk)
    other_member = _household(a2, "吴城村二组", "9", "周红梅", make_id(dt.date(1980, 6, 6), 66),
                              political_status="中共党员").members.get()
    household_link_party_member(actor=None, now=T0, household_id=other.pk, party_member_id=other_member.pk)
    return Links(wang=wang, ouyang=ouyang, li_home=li_home, ended=ended, other_grid=other,
                 secrets=[wang_id, ouyang_id, li_id, "13812345678", "13900002222", "13700003333", "王建国",
                          "欧阳春花", "低保", "钱有福", "孙大山", "周红梅", "一组20号"])


def test_the_board_lists_each_party_member_with_the_doors_they_look_after(world, login, links):
    response = login(world.li_qiang).get(f"/units/{world.grid_a1.pk}/party-board.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    save(pdf, "party-board")
    assert any("Noto-Sans-CJK-SC" in f for f in embedded_fonts(pdf)), embedded_fonts(pdf)
    text = page_text(pdf)
    compact = re.sub(r"\s+", "", text)
    for expected in ("吴城村第一网格", "党员联系户公示", "李卫东", "赵磊", "一组12号王某", "一组14号欧阳某",
                     "联系党员2名", "联系户2户", "扫一扫反映问题"):
        assert expected in compact, (expected, text)
    for secret in links.secrets:
        assert secret not in compact, secret
    assert not re.search(r"\d{17}[\dXx]|1[3-9]\d{9}", compact.replace("0352-8123456", ""))
    assert qr_codes(pdf) == [grid_url(world.grid_a1.pk)]
    event = AuditEvent.objects.get(action="board.print", detail__kind="party_board")
    assert event.object_id == str(world.grid_a1.pk) and event.detail["members"] == 2


def test_masked_names_keep_only_the_surname():
    names = ("王芳", "王建国", "欧阳春花", "", " 李 ")
    assert [masked_name(n) for n in names] == ["王某", "王某", "欧阳某", "", "李某"]


def test_a_grid_without_links_prints_a_plain_note(world, login):
    response = login(world.zhao_lei).get(f"/units/{world.grid_a1.pk}/party-board.pdf")
    assert response.status_code == 200
    assert "本网格尚未确定党员联系户" in re.sub(r"\s+", "", page_text(response.content))


def test_the_party_board_is_scoped_and_needs_the_ledger(world, login, links):
    url = f"/units/{world.grid_a1.pk}/party-board.pdf"
    assert login(world.sun_li).get(url).status_code == 404  # outsider: as if missing
    assert login(world.wang_fang).get(f"/units/{world.grid_a2.pk}/party-board.pdf").status_code == 404
    assert login(world.liu_yang).get(url).status_code == 404  # department handler sees no units
    # The system admin sees units but not the ledger: the party board is refused, the grid board is not.
    assert login(world.zhou_min).get(url).status_code == 403
    assert login(world.zhou_min).get(f"/units/{world.grid_a1.pk}/board.pdf").status_code == 200
    assert login(world.wu_gang).get(url).status_code == 403  # the audit admin: the unit is in sight, not his to print
    assert login(world.wang_fang).get(url).status_code == 200  # the grid's own worker may print it
    for office in (world.zhang_wei, world.chen_jing):  # township and county offices
        assert login(office).get(url).status_code == 200
    printed = AuditEvent.objects.filter(action="board.print", detail__kind="party_board")
    assert sorted(e.actor_id for e in printed) == sorted(u.pk for u in (world.wang_fang, world.zhang_wei,
                                                                       world.chen_jing))


def all_qr_codes(pdf: bytes) -> list[str]:
    found = []
    for page in pypdfium2.PdfDocument(pdf):
        found += [r.text for r in zxingcpp.read_barcodes(page.render(scale=3).to_pil())]
    return found


@pytest.mark.parametrize("kind", ["contact", "supervision"])
def test_one_card_per_household_of_the_grid_in_one_run(world, login, links, kind):
    response = login(world.li_qiang).get(f"/units/{world.grid_a1.pk}/cards.pdf?kind={kind}")
    assert response.status_code == 200
    pdf = response.content
    save(pdf, f"{kind}-cards-per-household")
    compact = re.sub(r"\s+", "", page_text(pdf))
    # The four active households of A1 (the ended link does not matter: 20 号 is still a household).
    # Doors without the village's name, which the card already carries.
    doors = ["一组3号", "一组12号", "一组14号", "一组20号"]
    for door in doors:
        assert compact.count(door) == 1, door
    assert "二组" not in compact and "王建国" not in compact and "13812345678" not in compact
    assert all_qr_codes(pdf) == [grid_url(world.grid_a1.pk)] * 4
    event = AuditEvent.objects.get(action="board.print", detail__kind=f"{kind}_card")
    assert event.detail["copies"] == 4 and event.detail["per_household"] is True


def test_cards_per_household_need_a_ledger(world, login):
    response = login(world.li_qiang).get(f"/units/{world.grid_a1.pk}/cards.pdf")
    assert response.status_code == 400 and "请填写份数" in response.content.decode()
    assert not AuditEvent.objects.filter(action="board.print").exists()
