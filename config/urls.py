from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from gridgov.interfaces import ops
from gridgov.interfaces.api.api import api

urlpatterns = [
    path("", include("gridgov.interfaces.staff.urls")),
    path("api/", api.urls),
    path("open311/v2/", include("gridgov.interfaces.api.open311")),
    path("p/", include("gridgov.interfaces.public.urls")),
    path("support/", admin.site.urls),
    path("ops/health", ops.health, name="ops_health"),
    path("ops/ready", ops.ready, name="ops_ready"),
    path("ops/metrics", ops.metrics, name="ops_metrics"),
]

if settings.GRIDGOV_BENCH_ENDPOINTS:  # `make bench` only; `check --deploy` fails while it is on
    urlpatterns.append(path("bench/", include("gridgov.interfaces.bench_endpoints")))
