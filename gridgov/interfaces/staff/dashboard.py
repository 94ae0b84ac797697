"""Dashboards, the map and the wall screen (大屏): thin views over gridgov.insights.

Every page reads one unit the actor may see (out of scope is 404), a period and a category from the
query string; bad input is shown as a plain Chinese message with status 400."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import json
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.safestring import mark_safe
from shapely.geometry import shape

from gridgov.access.roles import P
from gridgov.access.scope import Scope
from gridgov.audit.services import audit_record
from gridgov.cases import calendar as work_calendar
from gridgov.cases.selectors import categories
from gridgov.core.clock import local, now
from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.core.replica import replica_reads
from gridgov.geo.coords import wgs84_to_gcj02
from gridgov.insights import board as insights
from gridgov.insights import deliberation_measures, measures, visit_measures
from gridgov.insights import selectors as report_selectors
from gridgov.insights import services as report_services
from gridgov.insights.facts import fresh_state
from gridgov.insights.models import ReportKind, ReportStatus
from gridgov.interfaces.http import actor_scope, scoped_view, staff_actor
from gridgov.interfaces.jobs.status import stale_watched
from gridgov.interfaces.printing import render_pdf
from gridgov.units import selectors as unit_selectors
from gridgov.units.locate import boundary_version
from gridgov.units.models import GridType, Unit
from gridgov.units.selectors import level_name, unit_breadcrumb
from gridgov.visits import selectors as visit_selectors


def _kept(key: Callable[[], str], compute: Callable[[], Any]) -> Any:
    """A page body kept GRIDGOV_INSIGHTS_CACHE_SECONDS under key() (insights.kept: one request computes, the
    others wait or get the kept one); computed on every request when the setting is 0 (tests)."""
    seconds = int(getattr(settings, "GRIDGOV_INSIGHTS_CACHE_SECONDS", 0))
    if seconds <= 0:
        return compute()
    return insights.kept(key(), seconds, compute)

def _filters(request: HttpRequest, scope: Scope, moment: dt.datetime) -> dict[str, Any]:
    """unit, period, category and ranking measure from the query string (raises on bad input)."""
    raw_unit = request.GET.get("unit", "").strip()
    unit = measures.measure_unit(scope=scope, unit_id=raw_unit) if raw_unit else measures.home_unit(scope)
    preset = request.GET.get("preset", "month")
    if preset not in measures.PRESETS:
        preset = "month"
    period = measures.period_from(request.GET.get("start"), request.GET.get("end"), now=moment, preset=preset)
    category = measures.category_get(request.GET.get("category", "").strip()[:40])
    rank = request.GET.get("rank", "on_time_rate")
    if rank not in measures.MEASURE_BY_CODE:
        rank = "on_time_rate"
    # The dates as understood (not as typed), and the query string rebuilt from them: a kept page is
    # keyed by these, and links carry them on.
    given = bool(request.GET.get("start") or request.GET.get("end"))
    start, end = (period.start.isoformat(), period.end.isoformat()) if given else ("", "")
    query = urlencode([(k, v) for k, v in (("unit", raw_unit and str(unit.pk)), ("preset", preset),
                                           ("start", start), ("end", end),
                                           ("category", category.code if category else ""), ("rank", rank)) if v])
    return {"unit": unit, "period": period, "category": category, "rank": rank, "preset": preset,
            "start": start, "end": end, "query": query}


def _common(scope: Scope, f: dict[str, Any]) -> dict[str, Any]:
    unit: Unit = f["unit"]
    return {
        "unit": unit,
        "breadcrumb": unit_breadcrumb(scope=scope, unit=unit),
        "period": f["period"],
        "category": f["category"],
        "rank": f["rank"],
        "preset": f["preset"],
        "presets": measures.PRESETS,
        "categories": [c for c in categories() if c.parent_id is None],
        "measures": measures.MEASURES,
        "start": f["start"],
        "end": f["end"],
        "query": f["query"],
    }


def _visible_ancestors(scope: Scope, unit: Unit) -> tuple[int, ...]:
    """The ids of the unit's ancestors the actor can see (what the breadcrumb shows), from the paths alone."""
    ids = unit.ancestor_ids()
    roots = scope.unit_paths
    return tuple(pk for i, pk in enumerate(ids)
                 if any(("/" + "".join(f"{x}/" for x in ids[:i + 1])).startswith(r) for r in roots))


def _reader_key(scope: Scope, unit: Unit) -> str:
    """What a kept page may depend on besides the unit and the filters: the breadcrumb (visible ancestors),
    whether the duty and points figures show (work.assess over the unit), and the mediation and deliberation
    figures: the same for everyone who holds their permission over the whole unit ("all"), read through
    the actor's own scope otherwise (the scope's fingerprint, so only actors with the same grants share
    them). The case figures need no part of the key: the caller checked case.view over the unit, and then
    every case of the unit's subtree is visible."""

    def reach(perm: str) -> str:
        if not scope.can(perm):
            return "none"
        return "all" if scope.can(perm, unit.path) else insights.scope_fingerprint(scope)

    crumbs = ".".join(str(pk) for pk in _visible_ancestors(scope, unit))
    return (f"{crumbs}|{int(scope.can(P.WORK_ASSESS, unit.path))}|{reach(P.MEDIATION_VIEW)}|"
            f"{reach(P.DELIBERATION_VIEW)}")


def _board_html(scope: Scope, f: dict[str, Any], moment: dt.datetime, template: str) -> str:
    """The dashboard's content (or the whole wall screen), rendered without the request: everything in it is
    a function of the unit, the filters and `_reader_key`."""
    b = insights.cached_board(scope=scope, unit=f["unit"], period=f["period"], now=moment,
                              category=f["category"], rank_measure=f["rank"])
    context = {**_common(scope, f), "board": b, "chart_data": b.chart_data(),
               "generated_at": local(b.computed_at or moment)}
    board_page = template.endswith("_board.html")
    # Deliberation counts (群众议事), beside the case measures (the dashboard, not the wall screen);
    # their definitions are shown with them.
    context["deliberation"] = deliberation_measures.deliberation_figures(
        scope=scope, unit=f["unit"], period=f["period"]) if board_page else None
    context["deliberation_measures"] = deliberation_measures.DELIBERATION_MEASURES
    if board_page:
        from gridgov.insights import workforce_measures  # duty lists and points (assessors only)

        context["workforce"] = workforce_measures.figures_for(scope=scope, unit=f["unit"], period=f["period"])
        context["visit_compliance"] = visit_measures.visit_compliance(unit=f["unit"], period=f["period"],
                                                                      today=local(moment).date())
        context["visit_compliance_definition"] = visit_measures.DEFINITION
        if scope.can(P.MEDIATION_VIEW):
            # Mediation (矛盾纠纷调解): mode split, success and on-time rates, with their definitions.
            from gridgov.insights.mediation_measures import DEFINITIONS, mediation_figures

            context["mediation"] = mediation_figures(scope=scope, unit=f["unit"], period=f["period"], now=moment)
            context["mediation_definitions"] = DEFINITIONS
    return render_to_string(template, context)


def _board_context(request: HttpRequest, template: str) -> HttpResponse:
    scope = actor_scope(request)
    moment = now()
    try:
        f = _filters(request, scope, moment)
    except ValidationFailed as exc:
        unit = measures.home_unit(scope) if not request.GET.get("unit") else \
            measures.measure_unit(scope=scope, unit_id=request.GET["unit"])
        context = {"error": exc.message, "unit": unit, "presets": measures.PRESETS, "measures": measures.MEASURES,
                   "categories": [c for c in categories() if c.parent_id is None],
                   "start": request.GET.get("start", ""), "end": request.GET.get("end", ""),
                   "breadcrumb": unit_breadcrumb(scope=scope, unit=unit)}
        if template.endswith("_board.html"):
            return render(request, "staff/dashboard/index.html",
                          {"unit": unit, "body": mark_safe(render_to_string(template, context))},  # noqa: S308 - our template
                          status=400)
        return render(request, template, context, status=400)
    # The whole page content is kept (GRIDGOV_INSIGHTS_CACHE_SECONDS), after the scope check above, per unit,
    # filters and reader key: a kept request costs the session, the scope, the unit and one cache read.
    unit, period, category = f["unit"], f["period"], f["category"]
    body = _kept(lambda: (f"insights:page:v1:{template.rsplit('/', 1)[-1]}:{unit.pk}:{unit.path}:{period.start}:"
                          f"{period.end}:{f['preset']}:{f['start']}:{f['end']}:{category.pk if category else ''}:"
                          f"{f['rank']}:{_reader_key(scope, unit)}"),
                 lambda: _board_html(scope, f, moment, template))
    if not template.endswith("_board.html"):
        return HttpResponse(body)  # the wall screen is a page of its own (no navigation)
    # Offices are warned when the deadline sweep or the outbox has not run (issue 15): overdue cases would
    # go unmarked and nobody be told. Not kept with the body: it changes with the jobs, not the figures.
    stale = stale_watched(now=moment) if scope.can(P.JOBS_VIEW) else []
    # From 1 December, as on the home page: next year's working calendar not yet confirmed (issue 15).
    unconfirmed = work_calendar.unconfirmed_next_year(moment) if scope.can(P.CASE_DISPATCH) else None
    return render(request, "staff/dashboard/index.html", {"unit": unit, "body": mark_safe(body),  # noqa: S308 - rendered by our own template with autoescape
                                                          "stale_jobs": stale, "calendar_unconfirmed": unconfirmed})


@scoped_view
@replica_reads
def dashboard(request: HttpRequest) -> HttpResponse:
    return _board_context(request, "staff/dashboard/_board.html")


@scoped_view
@replica_reads
def dashboard_screen(request: HttpRequest) -> HttpResponse:
    """The wall screen (大屏) of the grid management centre: the same figures, full screen, dark."""
    return _board_context(request, "staff/dashboard/screen.html")


# --- the map --------------------------------------------------------------------------------

def tile_config() -> dict[str, Any]:
    """Which base map to draw under the boundaries: none (offline, the default) or 天地图 with a key."""
    provider = getattr(settings, "GRIDGOV_MAP_TILES", "none")
    key = getattr(settings, "GRIDGOV_TIANDITU_KEY", "")
    if provider == "tianditu" and key:
        # 天地图 serves CGCS2000 (≈ WGS-84) tiles: no conversion. GCJ-02 providers set "crs": "gcj02".
        return {
            "provider": "tianditu", "crs": "wgs84",
            "layers": [f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                       f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
                       f"&TILECOL={{x}}&tk={key}" for layer in ("vec", "cva")],
            "subdomains": "01234567", "attribution": "天地图",
        }
    return {"provider": "none", "crs": "wgs84", "layers": [], "attribution": ""}


@scoped_view
@replica_reads
def map_page(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request)
    moment = now()
    try:
        f = _filters(request, scope, moment)
    except ValidationFailed as exc:
        return render(request, "staff/dashboard/map.html", {"error": exc.message, "presets": measures.PRESETS,
                                                             "measures": measures.MEASURES}, status=400)
    context = {**_common(scope, f),
               "map_config": {"data_url": reverse("staff:map_data") + "?" + request.GET.urlencode(),
                              "tiles": tile_config(), "measure": f["rank"]}}
    return render(request, "staff/dashboard/map.html", context)


def _coords(lng: float, lat: float, crs: str) -> list[float]:
    if crs == "gcj02":
        glng, glat = wgs84_to_gcj02(lng, lat)
        return [round(glng, 7), round(glat, 7)]
    return [lng, lat]


def _geometry(boundary: Any, crs: str) -> Any:
    if crs == "wgs84" or not boundary:
        return boundary

    def conv(node: Any) -> Any:
        if isinstance(node, list) and node and isinstance(node[0], (int, float)):
            return _coords(float(node[0]), float(node[1]), crs)
        return [conv(n) for n in node]

    return {"type": boundary["type"], "coordinates": conv(boundary["coordinates"])}


HOUSEHOLDS = measures.Measure("households", "户数", "count", "网格登记户数（户情台账上线前为估算户数）。",
                              "households")
_DENSITY = ["#e3f2fd", "#90caf9", "#42a5f5", "#1e88e5", "#0d47a1"]


def _color(value: float | None, measure: measures.Measure, lo: float, hi: float) -> str:
    """Green for good, red for bad, grey for no data (a five-step scale); blues for household density."""
    if value is None:
        return "#cfd8dc"
    if measure is HOUSEHOLDS:
        pos = 0.0 if hi == lo else (value - lo) / (hi - lo)
        return _DENSITY[min(4, int(pos * 5))]
    scale = ["#c62828", "#ef6c00", "#f9a825", "#7cb342", "#2e7d32"]
    pos = value if measure.kind == "rate" else 0.0 if hi == lo else (value - lo) / (hi - lo)
    if not measure.higher_is_better:
        pos = 1 - pos
    return scale[min(4, max(0, int(pos * 5)))]


def _map_unit(request: HttpRequest) -> tuple[Scope, dict[str, Any] | None, JsonResponse | None]:
    scope = actor_scope(request)
    try:
        return scope, _filters(request, scope, now()), None
    except ValidationFailed as exc:
        return scope, None, JsonResponse({"code": exc.code, "message": exc.message}, status=400)


@scoped_view
@replica_reads
def map_data(request: HttpRequest) -> HttpResponse:
    """The grids under the unit, colored by the chosen measure, their cards, case pins and heat. The
    boundaries come apart from map_geometry (the same for every period and measure, kept by the
    browser): each feature here has its grid's id and no geometry."""
    scope, f, bad = _map_unit(request)
    if bad is not None or f is None:
        return bad or JsonResponse({}, status=400)
    crs = tile_config()["crs"]
    color = "households" if request.GET.get("color") == "households" else "measure"
    # Kept like the board, per unit and filters; household counts and grid staff are read through the
    # actor's scope, so the key also holds the scope's fingerprint (the same for an office's staff).
    # Kept gzip'd (a county's body is about a megabyte of JSON, a tenth of that compressed): each request
    # reads the small copy from the cache; a browser gets it as it is, other clients decompressed.
    body = _kept(lambda: (f"insights:map:v2:{f['unit'].pk}:{f['unit'].path}:{f['period'].start}:{f['period'].end}:"
                          f"{f['category'].pk if f['category'] else ''}:{f['rank']}:{color}:{crs}:"
                          f"{insights.scope_fingerprint(scope)}"),
                 lambda: gzip.compress(_map_body(scope, f, crs, color), 6, mtime=0))
    return gzipped_response(request, body, "application/json")


_ACCEPTS_GZIP = re.compile(r"\bgzip\b")


@functools.lru_cache(maxsize=8)
def _inflated(body: bytes) -> bytes:
    """A kept body decompressed, remembered for the next requests that read the same kept copy (hashing
    the compressed copy costs a tenth of decompressing it; 8 county bodies are about 8 MB a process)."""
    return gzip.decompress(body)


def gzipped_response(request: HttpRequest, body: bytes, content_type: str) -> HttpResponse:
    """A precompressed body: sent as it is (Content-Encoding: gzip) to clients that accept gzip, decompressed
    for the others; Vary: Accept-Encoding either way, so no shared cache hands one to the other."""
    if _ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")):
        response = HttpResponse(body, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(_inflated(body), content_type=content_type)
    patch_vary_headers(response, ("Accept-Encoding",))
    return response


def _map_body(scope: Scope, f: dict[str, Any], crs: str, color: str) -> bytes:
    moment = now()
    measure = measures.MEASURE_BY_CODE[f["rank"]]
    state = fresh_state()  # read once for the grids' figures and the heat layer
    cards = insights.grid_cards(scope=scope, unit=f["unit"], period=f["period"], now=moment,
                                category=f["category"], state=state)
    if color == "households":
        # Household density: households per grid, darker blue for more (no good or bad).
        measure = HOUSEHOLDS
        raw: list[float | None] = [None if c.households is None else float(c.households) for c in cards]
    else:
        raw = [measure.value(c.tallies) for c in cards]
    present = [v for v in raw if v is not None]
    lo, hi = (min(present), max(present)) if present else (0.0, 0.0)
    features = []
    board_url = reverse("staff:dashboard")
    for card, value in zip(cards, raw, strict=True):
        g = card.unit
        features.append({
            "type": "Feature",
            "id": g.pk,
            "geometry": None,
            "properties": {
                "id": g.pk, "name": g.name, "serial": g.serial, "head": card.head or "—",
                "households": card.households, "open_cases": card.open_cases, "overdue": card.overdue,
                "value": value, "value_text": measure.fmt(value), "color": _color(value, measure, lo, hi),
                "dashboard": f"{board_url}?unit={g.pk}",
            },
        })
    pins = insights.case_pins(scope=scope, unit=f["unit"], now=moment, category=f["category"])
    for p in pins:
        p["lng"], p["lat"] = _coords(p["lng"], p["lat"], crs)
    heat = []
    for lat, lng, n in insights.case_heat(scope=scope, unit=f["unit"], period=f["period"], category=f["category"],
                                          state=state):
        x, y = _coords(lng, lat, crs)
        heat.append([y, x, n])
    return json.dumps({
        "unit": {"id": f["unit"].pk, "name": f["unit"].name},
        "period": f["period"].label,
        "computed_at": f"{local(moment):%Y-%m-%d %H:%M}",
        "measure": {"code": measure.code, "label": measure.label, "definition": measure.definition},
        "grids": {"type": "FeatureCollection", "features": features},
        "geometry_url": reverse("staff:map_geometry") + f"?unit={f['unit'].pk}",
        "pins": pins,
        # Cases reported in the period per ~500 m cell (the heat layer).
        "heat": heat,
        # Where the period's visits were logged (only those the viewer may see): [lat, lng, kind].
        "visits": [[*reversed(_coords(lng, lat, crs)), kind] for lat, lng, kind in visit_selectors.visit_points(
            scope=scope, unit_path=f["unit"].path, start=f["period"].start, end=f["period"].end)],
        "crs": crs,
    }, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder).encode()


GEOMETRY_CACHE_SECONDS = 24 * 3600


@scoped_view
@replica_reads
def map_geometry(request: HttpRequest) -> HttpResponse:
    """The boundaries of the grids under the unit (GeoJSON, in the tiles' coordinate system, feature id =
    grid id), apart from the figures: they change only when a grid or a boundary changes. The body is
    kept in the shared cache under the grids' versions and the boundary version, and the browser
    revalidates it with its ETag (304 without a body while nothing changed)."""
    scope, f, bad = _map_unit(request)
    if bad is not None or f is None:
        return bad or JsonResponse({}, status=400)
    crs = tile_config()["crs"]
    grids = insights.grids_under(scope=scope, unit=f["unit"], geometry=False)
    digest = hashlib.sha256(
        f"{boundary_version()}|{crs}|{f['unit'].pk}|".encode()
        + ",".join(f"{g.pk}:{g.version}" for g in grids).encode()
    ).hexdigest()[:32]
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Cookie"}
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        key = f"insights:geometry:v1:{digest}"
        body = cache.get(key)
        if not isinstance(body, bytes):
            outlines = insights.grid_outlines(grids)
            body = json.dumps({"type": "FeatureCollection", "crs": crs, "features": [
                {"type": "Feature", "id": g.pk, "geometry": _geometry(outlines.get(g.pk), crs), "properties": {}}
                for g in grids if outlines.get(g.pk)
            ]}, ensure_ascii=False, separators=(",", ":")).encode()
            cache.set(key, body, GEOMETRY_CACHE_SECONDS)
        response = HttpResponse(body, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    return response


# --- the grid distribution map (网格分布图) ----------------------------------------------------

GRID_TYPE_COLORS = {
    "hamlet": "#c8e6c9", "residential": "#bbdefb", "institution": "#e1bee7", "scenic": "#b2dfdb",
    "enterprise": "#ffe0b2", "market": "#ffccbc", "school": "#fff9c4", "other": "#eceff1", "": "#f5f5f5",
}
DISTRIBUTION_GRID_LIMIT = 600


def distribution_svg(outline: Any, grids: list[Unit], width: int = 1000, height: int = 640, pad: int = 16) -> str:
    """All grid boundaries of a unit as one SVG (north up), filled by grid type, labelled by serial."""

    shapes = [(g, shape(g.boundary)) for g in grids if g.boundary]
    frame = [shape(outline)] if outline else []
    every = frame + [s for _, s in shapes]
    if not every:
        return ""
    minx = min(s.bounds[0] for s in every)
    miny = min(s.bounds[1] for s in every)
    maxx = max(s.bounds[2] for s in every)
    maxy = max(s.bounds[3] for s in every)
    # Degrees of longitude shrink with latitude: scale x by cos(lat) so shapes are not stretched.

    kx = math.cos(math.radians((miny + maxy) / 2))
    w, h = (maxx - minx) * kx or 1e-6, (maxy - miny) or 1e-6
    scale = min((width - 2 * pad) / w, (height - 2 * pad) / h)
    # Centre the drawing in the box.
    ox = pad + (width - 2 * pad - w * scale) / 2
    oy = pad + (height - 2 * pad - h * scale) / 2

    def pt(x: float, y: float) -> str:
        return f"{ox + (x - minx) * kx * scale:.1f},{height - oy - (y - miny) * scale:.1f}"

    def path_d(geom: Any) -> str:
        parts = []
        for poly in getattr(geom, "geoms", [geom]):
            for ring in [poly.exterior, *poly.interiors]:
                parts.append("M " + " L ".join(pt(x, y) for x, y in ring.coords) + " Z")
        return " ".join(parts)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}">']
    for f in frame:
        out.append(f'<path d="{path_d(f)}" fill="#fafafa" stroke="#b71c1c" stroke-width="3" fill-rule="evenodd"/>')
    for g, s in shapes:
        color = GRID_TYPE_COLORS.get(g.grid_type, GRID_TYPE_COLORS["other"])
        out.append(f'<path d="{path_d(s)}" fill="{color}" stroke="#37474f" stroke-width="1.2" '
                   'fill-rule="evenodd"/>')
    font = max(9, min(22, int(scale * 0.02)))
    for g, s in shapes:
        p = s.representative_point()
        x, y = pt(p.x, p.y).split(",")
        label = escape(g.serial or g.name[:6])
        out.append(f'<text x="{x}" y="{y}" font-size="{font}" text-anchor="middle" dominant-baseline="middle" '
                   f'font-family="Noto Sans CJK SC" font-weight="700" fill="#102a43">{label}</text>')
    out.append("</svg>")
    return "".join(out)


@scoped_view
def distribution_pdf(request: HttpRequest, unit_id: int) -> HttpResponse:
    """The grid distribution map: every grid with serial, grid head, households, workers, open cases."""
    scope = actor_scope(request)
    unit = unit_selectors.unit_get(scope=scope, unit_id=unit_id)
    scope.require(P.UNIT_VIEW, unit.path)
    grids = insights.grids_under(scope=scope, unit=unit, limit=DISTRIBUTION_GRID_LIMIT + 1)
    if len(grids) > DISTRIBUTION_GRID_LIMIT:
        raise NotFound(f"网格超过 {DISTRIBUTION_GRID_LIMIT} 个，请按乡镇或村分别打印。")
    staff = insights.grid_staff(scope=scope, units=grids)
    households = insights.households_by_unit(grids, scope=scope)
    open_cases = insights.open_cases_by_grid(scope=scope, unit=unit) if scope.can(P.CASE_VIEW, unit.path) else {}
    rows: list[dict[str, Any]] = []
    for g in grids:
        roles = staff.get(g.pk, {})
        rows.append({
            "unit": g, "head": "、".join(roles.get("grid_head", [])) or "—",
            # 人员身份: each worker with whether they are full-time (专职) or part-time (兼职).
            "workers": "、".join([f"{n}（专职）" for n in roles.get("grid_worker_full", [])]
                                + [f"{n}（兼职）" for n in roles.get("grid_worker_part", [])]) or "—",
            "households": households.get(g.pk), "open": sum(n for p, n in open_cases.items() if p.startswith(g.path)),
            "color": GRID_TYPE_COLORS.get(g.grid_type, GRID_TYPE_COLORS["other"]),
        })
    used = sorted({g.grid_type for g in grids})
    legend = [(GRID_TYPE_COLORS.get(t, GRID_TYPE_COLORS["other"]), dict(GridType.choices).get(t, "未分类"))
              for t in used]
    total = sum(r["households"] or 0 for r in rows)
    moment = now()
    context = {
        "unit": unit, "rows": rows, "legend": legend, "svg": mark_safe(distribution_svg(unit.boundary, grids)),  # noqa: S308 - built from numbers and escaped labels
        "households_total": total, "printed_at": local(moment), "level_name": level_name(unit),
    }
    body = render_pdf("print/distribution_map.html", context)
    audit_record(action="board.print", actor=staff_actor(request), now=moment, obj=unit, unit_path=unit.path,
                 role=scope.role_at(unit.path), detail={"kind": "distribution_map", "grids": len(grids)})
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="distribution-map-{unit.pk}.pdf"'
    return response


# --- weekly and monthly reports ------------------------------------------------------------------

@scoped_view
def reports(request: HttpRequest) -> HttpResponse:
    """Ask for a report (generated in the background) and download the kept ones."""
    scope = actor_scope(request)
    raw_unit = request.POST.get("unit") or request.GET.get("unit") or ""
    unit = measures.measure_unit(scope=scope, unit_id=raw_unit) if raw_unit else measures.home_unit(scope)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            report_services.report_request(actor=staff_actor(request), now=now(), unit_id=unit.pk,
                                           kind=request.POST.get("kind", ""), day=request.POST.get("day") or None)
        except ValidationFailed as exc:
            error, status = exc.message, 400
        else:
            messages.success(request, "已开始生成报表，完成后可在下方下载。")
            return redirect(reverse("staff:reports") + f"?unit={unit.pk}")
    runs = report_selectors.reports_visible(scope=scope)
    pending = any(r.status in (ReportStatus.QUEUED, ReportStatus.RUNNING) for r in runs)
    return render(request, "staff/dashboard/reports.html", {
        "unit": unit, "runs": runs, "kinds": ReportKind.choices, "error": error, "pending": pending,
        "breadcrumb": unit_breadcrumb(scope=scope, unit=unit), "day": request.POST.get("day", ""),
    }, status=status)


@scoped_view
def report_download(request: HttpRequest, report_id: int, fmt: str) -> HttpResponse:
    scope = actor_scope(request)
    run = report_selectors.report_get(scope=scope, report_id=report_id)
    file = run.pdf if fmt == "pdf" else run.xlsx
    if run.status != ReportStatus.DONE or not file:
        raise NotFound("报表尚未生成完成。")
    content_type = "application/pdf" if fmt == "pdf" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit_record(action="insights.report_download", actor=staff_actor(request), now=now(), obj=run,
                 unit_path=run.unit.path, role=scope.role_at(run.unit.path), detail={"format": fmt})
    with file.open("rb") as handle:
        response = HttpResponse(handle.read(), content_type=content_type)
    filename = f"report-{run.unit_id}-{run.kind}-{run.period_start:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'{"inline" if fmt == "pdf" else "attachment"}; filename="{filename}"'
    return response
