"""The hostile-file corpus (tests/hostile_files.py) uploaded through the real pages and API: each file gets a
Chinese refusal, nothing is imported or stored, and the server answers the next request. The parse of a
workbook runs in a bounded child process (core.untrusted); the last tests show that a file past the bounds
check still cannot take the process down."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gridgov.cases.models import Case, CaseAttachment
from gridgov.core import untrusted
from gridgov.core.errors import ValidationFailed
from gridgov.core.photos import check_photo
from gridgov.residents.models import Household, ImportJob, Resident
from tests.cases.conftest import Kit
from tests.hostile_files import HOSTILE_IMAGES, HOSTILE_XLSX, sparse_range
from tests.public.test_report import form_key, grid_path
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.hostile]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def cases_kit(world: World) -> Kit:
    from tests.builtins import ensure_builtins

    ensure_builtins()
    return Kit(world=world)


@pytest.mark.parametrize(("label", "name", "build"), HOSTILE_XLSX, ids=[c[0] for c in HOSTILE_XLSX])
def test_household_import_refuses_each_hostile_workbook_and_survives(world, login, label, name, build):
    client = login(world.li_qiang)
    households, residents = Household.dangerously_unscoped.count(), Resident.dangerously_unscoped.count()
    response = client.post(reverse("staff:household_import"),
                           {"unit": world.village.pk, "file": SimpleUploadedFile(name, build()), "mode": "valid_only"})
    if response.status_code == 302:  # accepted for the job, which fails with the reason
        page = client.get(response.url).content.decode()
        job = ImportJob.dangerously_unscoped.latest("id")
        assert job.status == ImportJob.Status.FAILED, (label, job.status, job.message)
        assert CHINESE.search(job.message) and job.message in page
        assert job.households_created == job.residents_created == 0
    else:
        assert response.status_code == 200
        html = response.content.decode()
        assert re.search(r"不是有效的 Excel|损坏|不允许|过大|压缩比|范围", html), label
    assert (Household.dangerously_unscoped.count(), Resident.dangerously_unscoped.count()) == (
        households,
        residents,
    )  # nothing imported
    assert client.get(reverse("staff:household_import")).status_code == 200  # the server still answers


@pytest.mark.parametrize(("label", "name", "build"), HOSTILE_IMAGES, ids=[c[0] for c in HOSTILE_IMAGES])
def test_case_attachment_refuses_each_hostile_image(cases_kit, login, label, name, build):
    case = cases_kit.to_state("reported")
    client = login(cases_kit.world.wang_fang)
    r = client.post(f"/api/cases/{case.pk}/attachments", {"file": SimpleUploadedFile(name, build())})
    assert r.status_code == 400, (label, r.content)
    assert CHINESE.search(r.json()["message"])
    assert CaseAttachment.dangerously_unscoped.count() == 0
    assert client.get(f"/api/cases/{case.pk}").status_code == 200


@pytest.mark.parametrize(("label", "name", "build"), HOSTILE_IMAGES, ids=[c[0] for c in HOSTILE_IMAGES])
def test_public_report_refuses_each_hostile_photo(world, client, label, name, build):
    from tests.builtins import ensure_builtins

    ensure_builtins()
    path = grid_path(world)
    page = client.get(path)
    data = {
        "key": form_key(page.content.decode()),
        "category": "sanitation",
        "description": "村口垃圾三天没人清运了",
        "photos": [SimpleUploadedFile(name, build(), content_type="image/jpeg")],
    }
    r = client.post(path, data)
    assert r.status_code in (200, 400), (label, r.status_code)
    assert re.search(r"照片[^<]*(无法识别|过大|不是)", r.content.decode()), label
    assert Case.dangerously_unscoped.count() == 0 and CaseAttachment.dangerously_unscoped.count() == 0
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(("label", "name", "build"), HOSTILE_IMAGES, ids=[c[0] for c in HOSTILE_IMAGES])
def test_evidence_photo_check_refuses_each_hostile_image(label, name, build):
    """Visit and duty-item photos (core.photos.check_photo, used by both pages)."""
    with pytest.raises(ValidationFailed) as exc:
        check_photo(build())
    assert CHINESE.search(exc.value.message), label


def test_a_workbook_past_the_bounds_check_still_cannot_take_the_process_down():
    """Without the bounds check, calamine asks for 549 GB: the child dies against its own memory limit,
    the caller gets a Chinese reason and carries on."""
    with pytest.raises(ValidationFailed) as exc:
        untrusted.read_xlsx(sparse_range(), bounds=False, memory_mb=512)
    assert "内存" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        untrusted.read_xlsx(sparse_range(), timeout=0.001)
    assert "超时" in exc.value.message


def test_the_bounds_check_measures_the_real_extent_not_the_declared_one():
    from gridgov.core import xlsx_worker
    from tests.hostile_files import sparse_range_without_dimension
    from tests.residents.excel_files import ledger_rows, xlsx

    measured = xlsx_worker.check(xlsx(ledger_rows(5)), xlsx_worker.LIMITS)
    (sheet,) = measured["sheets"].values()
    assert sheet["rows"] == 11 and sheet["columns"] <= 24 and sheet["cells"] > 0
    with pytest.raises(xlsx_worker.Refused) as refused:
        xlsx_worker.check(sparse_range_without_dimension(), xlsx_worker.LIMITS)
    assert refused.value.code == "rows" and refused.value.numbers["rows"] == 1_048_576


def test_cells_without_positions_are_counted_where_they_fall():
    """Some writers leave out the `r` of rows and cells: the bounds check counts them in order instead."""
    import io
    import re as re_
    import zipfile

    from gridgov.core import xlsx_worker
    from tests.hostile_files import _rewrite
    from tests.residents.excel_files import ledger_rows, xlsx

    content = xlsx(ledger_rows(2))
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    bare = re_.sub(rb'(<(?:row|c)\b[^>]*?)\sr="[A-Z]*[0-9]+"', rb"\1", sheet)
    bare = re_.sub(rb"<dimension[^>]*/>", b"", bare)
    assert b' r="' not in bare
    measured = xlsx_worker.check(_rewrite(content, {"xl/worksheets/sheet1.xml": bare}), xlsx_worker.LIMITS)
    (extent,) = measured["sheets"].values()
    assert extent["rows"] == 5 and 0 < extent["columns"] <= 24
    with pytest.raises(xlsx_worker.Refused) as refused:
        xlsx_worker.check(_rewrite(content, {"xl/worksheets/sheet1.xml": bare}), {**xlsx_worker.LIMITS, "max_rows": 4})
    assert refused.value.code == "rows"
