"""A server error shows a Chinese page a resident or a cadre can read, never Django's English one."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("deliberate failure for the 500 page test")


urlpatterns = [path("boom/", _boom)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_server_error_page_is_chinese() -> None:
    response = Client(raise_request_exception=False).get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="zh-CN">' in body and "出错了，这次没有办成" in body and "您刚才的操作没有保存" in body
    assert "Server Error" not in body and "RuntimeError" not in body
