"""Abuse resistance: rate limits per IP and per phone, a challenge after repeated submissions, and no
way to enumerate cases or units through public URLs."""

from __future__ import annotations

import re

import pytest

from gridgov.cases.models import Case
from gridgov.interfaces.public import throttle
from gridgov.interfaces.public.links import grid_token

from .test_report import form_key, grid_path

pytestmark = pytest.mark.django_db


def submit(client, path: str, answer: str | None = None, **fields):  # type: ignore[no-untyped-def]
    html = client.get(path).content.decode()
    data = {"key": form_key(html), "category": "sanitation", "description": "路灯不亮", **fields}
    token = re.search(r'name="challenge_token" value="([^"]+)"', html)
    if token and answer is not None:
        question = re.search(r"<b>(\d) 加 (\d) 等于几？</b>", html)
        right = int(question.group(1)) + int(question.group(2))  # type: ignore[union-attr]
        data.update(challenge_token=token.group(1), challenge_answer=str(right) if answer == "right" else answer)
    return client.post(path, data), html


def test_a_challenge_appears_after_repeated_submissions_and_must_be_solved(pworld, client):
    path = grid_path(pworld)
    for _ in range(throttle.CHALLENGE_AFTER.limit):
        response, html = submit(client, path)
        assert response.status_code == 303 and "challenge_token" not in html
    response, html = submit(client, path)
    assert "等于几" in html
    assert response.status_code == 400 and "算一算" in response.content.decode()
    wrong, _ = submit(client, path, answer="99")
    assert wrong.status_code == 400
    assert Case.dangerously_unscoped.count() == throttle.CHALLENGE_AFTER.limit
    right, _ = submit(client, path, answer="right")
    assert right.status_code == 303
    assert Case.dangerously_unscoped.count() == throttle.CHALLENGE_AFTER.limit + 1


def test_a_solved_challenge_cannot_be_replayed(pworld, client):
    token = throttle.new_challenge()
    total = sum(int(n) for n in re.findall(r"\d", token.question))
    assert throttle.solved(token.token, str(total))
    assert not throttle.solved(token.token, str(total))
    assert not throttle.solved("forged", "3")


def test_reports_per_ip_are_limited_with_a_clear_message(pworld, client, monkeypatch):
    monkeypatch.setattr(throttle, "REPORT_PER_IP", throttle.Limit("report-ip", 2, 3600))
    monkeypatch.setattr(throttle, "CHALLENGE_AFTER", throttle.Limit("soft", 100, 3600))
    path = grid_path(pworld)
    assert submit(client, path)[0].status_code == 303
    assert submit(client, path)[0].status_code == 303
    third, _ = submit(client, path)
    assert third.status_code == 429 and "操作太频繁" in third.content.decode()
    assert Case.dangerously_unscoped.count() == 2


def test_reports_per_phone_are_limited(pworld, client, monkeypatch):
    monkeypatch.setattr(throttle, "REPORT_PER_PHONE", throttle.Limit("report-phone", 1, 86400))
    monkeypatch.setattr(throttle, "CHALLENGE_AFTER", throttle.Limit("soft", 100, 3600))
    path = grid_path(pworld)
    assert submit(client, path, phone="13912345678")[0].status_code == 303
    second, _ = submit(client, path, phone="139 1234 5678")
    assert second.status_code == 429 and "这个电话号码今天" in second.content.decode()
    assert submit(client, path, phone="13812345678")[0].status_code == 303
    assert Case.dangerously_unscoped.count() == 2


def test_tracking_views_per_ip_are_limited(pworld, client, monkeypatch):
    monkeypatch.setattr(throttle, "TRACK_PER_IP", throttle.Limit("track-ip", 3, 600))
    response, _ = submit(client, grid_path(pworld))
    for _ in range(3):
        assert client.get(response["Location"]).status_code == 200
    assert client.get(response["Location"]).status_code == 429


def test_public_urls_carry_no_sequential_ids(pworld, client):
    """Units appear only behind signatures and cases only behind their random tracking code."""
    response, html = submit(client, grid_path(pworld))
    case = Case.dangerously_unscoped.get()
    assert str(case.pk) not in response["Location"].split("/")
    assert len(case.tracking_token) >= 22
    links = re.findall(r'href="(/p/[^"]+)"', html)
    assert links and all(not re.search(r"/\d+/", link) for link in links)
    # The grid token is a signature over the id: changing the id inside it is refused.
    token = grid_token(pworld.grid_a1.pk)
    assert client.get(f"/p/g/{token.replace(token.split(':')[0], 'eyJ1IjoxfQ')}/").status_code == 404
    assert client.get(f"/p/g/{pworld.grid_a1.pk}/").status_code == 404
    assert client.get(f"/p/t/{case.pk}/").status_code == 404


def test_refused_attempts_count_too(pworld, client, monkeypatch):
    monkeypatch.setattr(throttle, "ATTEMPTS_PER_IP", throttle.Limit("attempts", 3, 3600))
    path = grid_path(pworld)
    for _ in range(3):
        assert submit(client, path, description="")[0].status_code == 400
    blocked, _ = submit(client, path)
    assert blocked.status_code == 429 and "操作太频繁" in blocked.content.decode()
    assert Case.dangerously_unscoped.count() == 0
