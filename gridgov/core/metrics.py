"""Prometheus metrics for requests. With several granian workers, set PROMETHEUS_MULTIPROC_DIR so
that every worker's figures are summed when /ops/metrics is scraped."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

REQUEST_LATENCY = Histogram(
    "gridgov_request_seconds",
    "Time to answer an HTTP request, by route and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RESPONSES = Counter("gridgov_responses_total", "HTTP responses by route and status class", ["route", "status"])


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # Route names, never raw paths: paths carry ids and would explode the label space.
        route = (match.view_name or match.route) if match else "unmatched"
        REQUEST_LATENCY.labels(route, request.method or "").observe(time.perf_counter() - started)
        RESPONSES.labels(route, f"{response.status_code // 100}xx").inc()
        return response
