"""Object storage through django-storages against a real S3-compatible server (moto's server mode, on a loopback
port started by the test): a photo a resident uploads through the real page on one app server is in the bucket and
readable by another app server (a second process configured from the environment, as deploy/gridgov.env.example
does it); audit archives go to the bucket and are verified from it; a store that does not answer gives a plain
Chinese page and writes nothing."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from django.core.cache import cache
from django.test import Client

from gridgov.audit import archive
from gridgov.audit.chain import seal
from gridgov.audit.models import AuditEvent
from gridgov.cases.catalogue import seed_categories
from gridgov.cases.models import Case, CaseAttachment, Category, default_deadlines
from gridgov.core.storage import ObjectStorage
from tests.public.conftest import jpeg_with_gps
from tests.public.test_report import grid_path, photo, report
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "gridgov-test"
KEYS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture
def pworld(world: World, settings: Any, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()  # the public page's throttles count reports from this address across tests
    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
    return world


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                 region_name="us-east-1").create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def bucket_keys(endpoint: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                      region_name="us-east-1")
    listing = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listing}


def options(endpoint: str, **extra: Any) -> dict[str, Any]:
    return {"bucket_name": BUCKET, "endpoint_url": endpoint, **KEYS, "file_overwrite": False, "default_acl": None,
            "client_config": Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1},
                                    s3={"addressing_style": "path"}), **extra}


def use_store(settings: Any, endpoint: str) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "gridgov.core.storage.ObjectStorage", "OPTIONS": options(endpoint)},
        "audit_archive": {"BACKEND": "gridgov.core.storage.ObjectStorage",
                          "OPTIONS": options(endpoint, location="audit-archive")},
    }


def read_in_another_process(endpoint: str, name: str) -> str:
    """Another app server: its own process, its settings from the environment alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDGOV_S3_", "AWS_"))}
    env.update(GRIDGOV_TESTING="1", DJANGO_SETTINGS_MODULE="config.settings", GRIDGOV_S3_BUCKET=BUCKET,
               GRIDGOV_S3_ENDPOINT_URL=endpoint, GRIDGOV_S3_ACCESS_KEY_ID="testing",
               GRIDGOV_S3_SECRET_ACCESS_KEY="testing", GRIDGOV_S3_REGION="us-east-1")
    code = ("import django, hashlib, sys; django.setup(); "
            "from django.core.files.storage import default_storage as s; "
            "print(type(s._wrapped if hasattr(s, '_wrapped') else s).__name__ if s.exists(sys.argv[1]) else 'absent', "
            "hashlib.sha256(s.open(sys.argv[1]).read()).hexdigest() if s.exists(sys.argv[1]) else '')")
    done = subprocess.run([sys.executable, "-c", code, name], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_photo_uploaded_on_one_server_is_in_the_bucket_and_read_by_another(pworld, client, settings, s3_endpoint):
    use_store(settings, s3_endpoint)
    before = set(bucket_keys(s3_endpoint))
    response = report(client, grid_path(pworld), photos=[photo("a.jpg", jpeg_with_gps())])
    assert response.status_code == 303, response.content.decode()
    att = CaseAttachment.dangerously_unscoped.get(case=Case.dangerously_unscoped.get())
    added = {k: v for k, v in bucket_keys(s3_endpoint).items() if k not in before}
    assert list(added) == [att.file.name] and att.file.name.startswith("cases/")
    stored = added[att.file.name]
    assert stored[:3] == b"\xff\xd8\xff" and b"TestCam" not in stored and len(stored) == att.size
    assert not (Path(settings.MEDIA_ROOT) / att.file.name).exists()  # nothing on this server's disk
    # A fresh storage (its own client and connections) and another process both read the same bytes.
    fresh = ObjectStorage(**options(s3_endpoint))
    with fresh.open(att.file.name, "rb") as fh:
        assert fh.read() == stored
    assert read_in_another_process(s3_endpoint, att.file.name) == f"ObjectStorage {hashlib.sha256(stored).hexdigest()}"
    # Staff on another app server (a second client) open it through the case's scope.
    other = Client()
    other.login(username=pworld.zhao_lei.username, password=PASSWORD)
    got = other.get(f"/cases/files/{att.pk}/")
    assert got.status_code == 200 and b"".join(got.streaming_content) == stored
    outsider = Client()
    outsider.login(username=pworld.sun_li.username, password=PASSWORD)
    assert outsider.get(f"/cases/files/{att.pk}/").status_code == 404


def test_audit_archives_go_to_the_bucket_and_verify_from_it(settings, s3_endpoint):
    use_store(settings, s3_endpoint)
    settings.GRIDGOV_AUDIT_RETENTION_DAYS = 184
    from tests.audit.test_archive import NOW, write

    write(300, 4)
    write(1, 2)
    seal()
    made = archive.archive_old(now=NOW)
    assert made is not None and made.row_count == 4
    key = f"audit-archive/{made.file}"
    data = bucket_keys(s3_endpoint)[key]
    assert hashlib.sha256(data).hexdigest() == made.sha256
    assert not (Path(settings.GRIDGOV_AUDIT_ARCHIVE_DIR) / made.file).exists()
    assert list(archive.verify_archives()) == []
    assert AuditEvent.objects.count() == 3  # the two young rows and the archive's own audit row
    # Changed in the bucket behind the app's back: verify says so.
    boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                 region_name="us-east-1").put_object(Bucket=BUCKET, Key=key, Body=data[:-4] + b"\0\0\0\0")
    breaks = list(archive.verify_archives())
    assert breaks and "checksum" in breaks[0].reason


def test_a_store_that_does_not_answer_gives_a_chinese_page_and_writes_nothing(pworld, client, settings, s3_endpoint):
    use_store(settings, s3_endpoint)
    response = report(client, grid_path(pworld), photos=[photo("a.jpg", jpeg_with_gps())])
    assert response.status_code == 303
    att = CaseAttachment.dangerously_unscoped.get()
    # The store goes away (nothing listens on its port any more).
    dead = f"http://127.0.0.1:{free_port()}"
    use_store(settings, dead)
    html_client = Client()
    again = report(html_client, grid_path(pworld), description="路灯坏了一个星期了", photos=[photo("b.jpg")])
    html = again.content.decode()
    assert again.status_code == 503
    assert "存储暂时连不上" in html and "路灯坏了一个星期了" in html  # what was typed comes back
    # nothing half written
    assert Case.dangerously_unscoped.count() == 1 and CaseAttachment.dangerously_unscoped.count() == 1
    staff = Client()
    staff.login(username=pworld.zhao_lei.username, password=PASSWORD)
    page = staff.get(f"/cases/files/{att.pk}/")
    assert page.status_code == 503 and "存储暂时连不上" in page.content.decode()
    assert "Traceback" not in page.content.decode() and "Error" not in page.content.decode()


def test_a_file_missing_from_the_bucket_is_a_chinese_404(pworld, client, settings, s3_endpoint):
    use_store(settings, s3_endpoint)
    assert report(client, grid_path(pworld), photos=[photo("a.jpg", jpeg_with_gps())]).status_code == 303
    att = CaseAttachment.dangerously_unscoped.get()
    ObjectStorage(**options(s3_endpoint)).delete(att.file.name)
    staff = Client()
    staff.login(username=pworld.zhao_lei.username, password=PASSWORD)
    page = staff.get(f"/cases/files/{att.pk}/")
    assert page.status_code == 404 and "这个文件找不到了" in page.content.decode()


def test_without_a_bucket_files_stay_on_local_disk() -> None:
    from django.conf import settings as live

    assert live.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert "audit_archive" not in live.STORAGES
