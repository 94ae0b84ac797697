"""A report whose body is larger than any valid report gets a plain Chinese page before Django reads
it (the CSRF check would otherwise parse the whole upload first)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gridgov.cases.public.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, MAX_REPORT_BODY

TOO_LARGE = (f"照片太大了，没有提交成功。每张照片不能超过 {MAX_PHOTO_BYTES // (1024 * 1024)} MB，最多 {MAX_PHOTOS} 张。"
             "请返回上一页，少选几张或换小一点的照片再提交。")


class PublicBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path.startswith("/p/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > MAX_REPORT_BODY:
                context = {"title": "没有提交成功", "text": TOO_LARGE, "lookup": False}
                response = render(request, "public/message.html", context, status=413)
                response["Cache-Control"] = "no-store"
                return response
        return self.get_response(request)
