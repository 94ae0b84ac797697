from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_grid_worker_reports_from_the_phone_form_and_sees_it_in_the_queue(kit, login):
    w = kit.world
    client = login(w.wang_fang)
    page = client.get(reverse("staff:case_new"))
    assert page.status_code == 200 and "登记事件" in page.content.decode()
    r = client.post(reverse("staff:case_new"), {
        "title": "电线杆倾斜", "description": "村口电线杆倾斜。", "category": "sanitation", "urgency": "ordinary",
        "channel": "field", "unit_id": str(w.grid_a1.pk), "idempotency_key": "form-1"})
    assert r.status_code == 302
    detail = client.get(r["Location"]).content.decode()
    assert "电线杆倾斜" in detail and "办理过程" in detail and "自办自结" in detail
    # Submitting the same form twice (double tap) does not make two cases.
    client.post(reverse("staff:case_new"), {
        "title": "电线杆倾斜", "description": "村口电线杆倾斜。", "category": "sanitation", "urgency": "ordinary",
        "channel": "field", "unit_id": str(w.grid_a1.pk), "idempotency_key": "form-1"})
    queue = client.get(reverse("staff:case_queue") + "?queue=todo").content.decode()
    assert queue.count("电线杆倾斜") == 1


def test_form_errors_are_shown_in_chinese_and_nothing_is_written(kit, login):
    client = login(kit.world.wang_fang)
    r = client.post(reverse("staff:case_new"), {"title": "x", "description": "y", "category": "",
                                                "idempotency_key": "e1"})
    assert r.status_code == 200 and "请选择事件类别" in r.content.decode()


def test_actions_shown_are_the_ones_the_user_may_take_now(kit, login):
    w = kit.world
    case = kit.to_state("dispatched")
    dept_page = login(w.liu_yang).get(reverse("staff:case_detail", args=[case.pk])).content.decode()
    assert 'data-action="acknowledge"' in dept_page and 'data-action="return"' in dept_page
    assert 'data-action="dispatch"' not in dept_page
    office_page = login(w.zhang_wei).get(reverse("staff:case_detail", args=[case.pk])).content.decode()
    assert 'data-action="acknowledge"' not in office_page and 'data-action="urge"' in office_page
    worker_page = login(w.wang_fang).get(reverse("staff:case_detail", args=[case.pk])).content.decode()
    assert "现在可以" not in worker_page


def test_acting_from_the_page_and_conflict_message(kit, login):
    w = kit.world
    case = kit.to_state("dispatched")
    client = login(w.liu_yang)
    url = reverse("staff:case_act", args=[case.pk, "acknowledge"])
    r = client.post(url, {"version": case.version}, follow=True)
    assert "已签收" in r.content.decode()
    again = client.post(url, {"version": case.version}, follow=True)
    assert "他人" in again.content.decode()


@pytest.mark.parametrize("queue", ["todo", "done", "due_soon", "overdue", "supervised", "returned"])
def test_queues_and_scope_for_every_persona(kit, login, queue):
    w = kit.world
    case = kit.to_state("returned")
    for persona, user in w.personas().items():
        client = login(user)
        page = client.get(reverse("staff:case_queue") + f"?queue={queue}")
        assert page.status_code == 200, persona
        detail = client.get(reverse("staff:case_detail", args=[case.pk]))
        expected = 404 if persona == "outsider" else 200
        assert detail.status_code == expected, persona
        if persona == "outsider":
            assert case.title not in page.content.decode()
            act = client.post(reverse("staff:case_act", args=[case.pk, "adjudicate"]), {"note": "x"})
            assert act.status_code == 404


def test_returned_queue_lists_cases_awaiting_adjudication(kit, login):
    case = kit.to_state("returned")
    page = login(kit.world.zhang_wei).get(reverse("staff:case_queue") + "?queue=returned").content.decode()
    assert case.title in page


def test_login_required(client):
    assert client.get(reverse("staff:case_queue")).status_code == 302


def test_inbox_shows_new_assignment_to_the_department_and_marks_read(kit, login):
    from gridgov.notify.services import deliver_pending

    kit.to_state("dispatched")
    deliver_pending(now=kit.now)
    client = login(kit.world.liu_yang)
    page = client.get(reverse("staff:inbox")).content.decode()
    assert "交办：村口垃圾堆放" in page and "未读" in page
    client.post(reverse("staff:inbox"), {"id": [m for m in _unread_ids(kit.world.liu_yang)]})
    assert "未读" not in client.get(reverse("staff:inbox")).content.decode()
    # Someone else's inbox stays their own.
    assert "交办：村口垃圾堆放" not in login(kit.world.sun_li).get(reverse("staff:inbox")).content.decode()


def _unread_ids(user):  # type: ignore[no-untyped-def]
    from gridgov.notify.models import InboxMessage

    return list(InboxMessage.objects.filter(user=user, read_at__isnull=True).values_list("pk", flat=True))


def test_map_lists_open_cases_with_a_location_in_scope_only(kit, login):
    c = kit.report(unit_id=None, lat=39.05, lng=113.05, title="地图上的事件")
    page = login(kit.world.zhang_wei).get(reverse("staff:case_map")).content.decode()
    assert c.number in page and "leaflet.js" in page
    other = login(kit.world.sun_li).get(reverse("staff:case_map")).content.decode()
    assert c.number not in other


def test_todo_is_what_waits_on_me_not_my_whole_subtree(kit, login):
    from gridgov.access.scope import scope_for
    from gridgov.cases.selectors import case_queue

    w = kit.world
    at_grid = kit.to_state("reported")
    at_township = kit.to_state("returned")
    ids = lambda user: {c.pk for c in case_queue(scope=scope_for(user), queue="todo", now=kit.now)}  # noqa: E731
    assert ids(w.zhao_lei) == {at_grid.pk}
    assert ids(w.zhang_wei) == {at_township.pk}
    assert ids(w.liu_yang) == set()


def test_merge_from_the_page_by_case_number(kit, login):
    original = kit.report(title="原事件")
    dup = kit.report(title="重复事件")
    client = login(kit.world.zhao_lei)
    r = client.post(reverse("staff:case_act", args=[dup.pk, "merge"]), {"target_case_id": original.number},
                    follow=True)
    assert "已合并" in r.content.decode()
    dup.refresh_from_db()
    assert dup.status == "merged" and dup.merged_into_id == original.pk
    bad = client.post(reverse("staff:case_act", args=[original.pk, "merge"]), {"target_case_id": "no-such"},
                      follow=True)
    assert "请填写要并入的原事件编号" in bad.content.decode()


def test_a_long_queue_is_paged_fifty_a_page_with_its_count_and_page_links(kit, login):
    import re

    from gridgov.cases import selectors

    w = kit.world
    made = [kit.report(title=f"积水点 {i:02d}", idempotency_key=f"page-{i}") for i in range(53)]
    client = login(w.wang_fang)
    url = reverse("staff:case_queue") + "?queue=todo"
    first = client.get(url).content.decode()
    second = client.get(url + "&page=2").content.decode()
    assert first.count('class="case-item"') == selectors.QUEUE_PAGE_SIZE == 50
    assert second.count('class="case-item"') == 3
    assert "共 53 件" in first and "第 1 页（共 2 页）" in first and "第 2 页（共 2 页）" in second
    assert 'href="?queue=todo&amp;page=2" rel="next"' in first and 'rel="prev"' not in first
    assert 'href="?queue=todo&amp;page=1" rel="prev"' in second and 'rel="next"' not in second
    # Every case once over the two pages, each linking to its own page, in deadline order.
    links = re.findall(r'<a class="title" href="/cases/(\d+)/">积水点 (\d+)</a>', first + second)
    assert sorted(int(pk) for pk, _ in links) == sorted(c.pk for c in made)
    assert all(int(pk) == made[int(n)].pk for pk, n in links)
    # A page past the end shows the last one; a page that is not a number shows the first.
    assert client.get(url + "&page=9").content.decode().count('class="case-item"') == 3
    assert client.get(url + "&page=x").content.decode().count('class="case-item"') == 50
    # The filters stay in the page links.
    filtered = client.get(url + "&q=积水点").content.decode()
    assert 'href="?queue=todo&amp;q=%E7%A7%AF%E6%B0%B4%E7%82%B9&amp;page=2" rel="next"' in filtered


def test_a_queue_longer_than_the_cap_says_so(kit, login, monkeypatch):
    from gridgov.cases import selectors

    monkeypatch.setattr(selectors, "QUEUE_CAP", 4)
    for i in range(6):
        kit.report(title=f"路灯不亮 {i}", idempotency_key=f"cap-{i}")
    page = login(kit.world.wang_fang).get(reverse("staff:case_queue") + "?queue=todo").content.decode()
    assert "超过 4 件，列出前 4 件" in page and page.count('class="case-item"') == 4


def test_a_queue_row_shows_the_case_status_countdown_and_marks(kit, login):
    w = kit.world
    case = kit.to_state("reported", title="井盖缺失", urgency="emergency")
    plain = kit.to_state("reported", title="<b>路灯</b>")
    kit.act(case, "supervise", w.zhang_wei)
    kit.act(case, "urge", w.zhang_wei, note="请抓紧")
    page = login(w.wang_fang).get(reverse("staff:case_queue") + "?queue=todo").content.decode()
    assert "&lt;b&gt;路灯&lt;/b&gt;" in page and "<b>路灯" not in page  # titles are escaped
    other = page[page.index("&lt;b&gt;路灯"):]
    other = other[:other.index("</li>")]
    assert plain.number in other and "紧急" not in other and "督办" not in other and "催办" not in other
    row = page[page.index("井盖缺失"):]
    row = row[:row.index("</li>")]
    assert case.number in row and "环境卫生" in row and w.grid_a1.name in row
    assert '<span class="badge">待受理</span>' in row and '<span class="badge late">紧急</span>' in row
    assert '<span class="badge late">督办</span>' in row and "<span>催办 1 次</span>" in row
    # The kit's cases are dated March 2026: the page's clock is the wall clock, so this one is late.
    assert '<span class="countdown late">已超期 ' in row
