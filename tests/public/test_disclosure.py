"""Public disclosure (公开) per village or grid: cases an office marked public, de-identified, and the
unit's public statistics."""

from __future__ import annotations

import re

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.cases.public.models import Disclosure
from gridgov.cases.public.selectors import public_photos
from gridgov.cases.public.services import case_disclose
from gridgov.core.errors import NotFound, PermissionDenied, ValidationFailed
from gridgov.interfaces.public.links import grid_token, photo_token

from .test_track import Desk

pytestmark = pytest.mark.django_db


def test_an_empty_unit_shows_dashes_not_zero_percent(pworld, client):
    html = client.get(f"/p/d/{grid_token(pworld.grid_b1.pk)}/").content.decode()
    assert "东坊村第一网格" in html and "暂时没有公开的事件" in html
    assert html.count("—") == 2 and "0%" not in html


def test_a_case_marked_public_is_listed_without_identity(pworld, client, login):
    desk = Desk(pworld, phone="13912345678")
    desk.resolve()
    desk.act("confirm", pworld.zhang_wei, rating=5, note="很好")
    Desk(pworld)  # a second report, still open: counted, not listed
    staff = login(pworld.zhang_wei)
    assert staff.post(f"/cases/{desk.case.pk}/disclose/", {"public": "1"}).status_code == 302
    assert Disclosure.dangerously_unscoped.get(case=desk.case).is_public
    assert AuditEvent.objects.filter(action="case.disclose").count() == 1
    for unit in (pworld.grid_a1, pworld.village):
        response = client.get(f"/p/d/{grid_token(unit.pk)}/")
        html = response.content.decode()
        assert response.status_code == 200
        for expected in ("环境卫生", "吴城村第一网格", "吴城乡派出所", "已交有关部门办理", "已联系环卫站清运完毕",
                         "满意"):
            assert expected in html, expected
        assert html.count("<article") == 1
        # statistics: two received, one finished, on time, one rating
        assert re.search(r"收到问题</dt><dd>2 件", html) and re.search(r"已办结</dt><dd>1 件", html)
        assert "按期办结率</dt><dd>100%" in html and "群众满意率</dt><dd>100%" in html
    photos = re.findall(r'src="(/p/d/[^"]+/photo/[^"]+/)"', html)
    assert len(photos) == 1 and client.get(photos[0]).status_code == 200
    # No attachment number in the URL (they run in sequence), and a bare number is refused.
    (attachment,) = public_photos(desk.case)
    assert f"/photo/{attachment.pk}/" not in photos[0]
    assert client.get(f"/p/d/{grid_token(pworld.village.pk)}/photo/{attachment.pk}/").status_code == 404
    forged = photos[0].rsplit("/photo/", 1)[0] + "/photo/" + photo_token(attachment.pk)[:-1] + "x/"
    assert client.get(forged).status_code == 404
    # The photo is served only under a unit that contains the case, and only while public.
    other = photos[0].replace(grid_token(pworld.village.pk), grid_token(pworld.grid_b1.pk))
    assert client.get(other).status_code == 404
    staff.post(f"/cases/{desk.case.pk}/disclose/", {"public": "0"})
    assert client.get(photos[0]).status_code == 404
    assert "<article" not in client.get(f"/p/d/{grid_token(pworld.village.pk)}/").content.decode()
    # A sibling township's page lists nothing of it.
    assert "环卫站" not in client.get(f"/p/d/{grid_token(pworld.grid_c1.pk)}/").content.decode()


def test_only_finished_cases_by_reviewing_staff_in_scope(pworld):
    desk = Desk(pworld)
    with pytest.raises(ValidationFailed):
        case_disclose(actor=pworld.zhang_wei, now=desk.tick(), case_id=desk.case.pk, public=True)
    desk.resolve()
    with pytest.raises(PermissionDenied):
        case_disclose(actor=pworld.wang_fang, now=desk.tick(), case_id=desk.case.pk, public=True)
    with pytest.raises(NotFound):
        case_disclose(actor=pworld.sun_li, now=desk.tick(), case_id=desk.case.pk, public=True)
    assert not Disclosure.dangerously_unscoped.exists()


def test_phone_and_id_numbers_in_a_result_are_masked(pworld, client, login):
    desk = Desk(pworld)
    desk.act("accept", pworld.zhao_lei)
    desk.act("self_handle", pworld.zhao_lei, result="已处理，联系人电话 13800001111，身份证 140225199001011234。")
    case_disclose(actor=pworld.zhang_wei, now=desk.tick(), case_id=desk.case.pk, public=True)
    html = client.get(f"/p/d/{grid_token(pworld.grid_a1.pk)}/").content.decode()
    assert "已处理，联系人电话 ＊＊＊" in html and "13800001111" not in html and "1402251990" not in html


@pytest.mark.parametrize("token", ["abc", "1", "x" * 300])
def test_forged_disclosure_links_find_nothing(pworld, client, token):
    assert client.get(f"/p/d/{token}/").status_code == 404
    assert client.get(f"/p/d/{token}/photo/1/").status_code == 404
