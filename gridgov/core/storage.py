"""Files (photos, attachments, exports, reports, audit archives) through Django's storage API.

Local disk (`MEDIA_ROOT`) by default; an S3-compatible object store (MinIO, Ceph, a cloud's OSS/COS/OBS) when
`GRIDGOV_S3_BUCKET` is set (config/settings.py), so every app server and worker sees the same files.
`ObjectStorage` is django-storages' S3 backend with one change: when the store does not answer or refuses (down,
wrong keys, no bucket), it raises `StorageUnavailable`, which the pages turn into a plain Chinese message (503),
never a 500. A file that is not in the store is `FileNotFoundError`, as on local disk.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from storages.backends.s3 import S3Storage

from .errors import DomainError

UNAVAILABLE = "照片和附件的存储暂时连不上，刚才的操作没有保存。请过几分钟再试；如果一直不行，请联系管理员。"


class StorageUnavailable(DomainError):
    """The file store did not answer or refused the request; nothing was written."""

    code = "storage_unavailable"
    http_status = 503

    def __init__(self, message: str = UNAVAILABLE, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


@contextlib.contextmanager
def _translated(name: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchKey", "NotFound"}:
            raise FileNotFoundError(f"File does not exist: {name}") from exc
        raise StorageUnavailable() from exc
    except BotoCoreError as exc:
        raise StorageUnavailable() from exc


class ObjectStorage(S3Storage):  # type: ignore[misc]
    def _open(self, name: str, mode: str = "rb") -> Any:
        with _translated(name):
            return super()._open(name, mode)

    def _save(self, name: str, content: Any) -> str:
        with _translated(name):
            return str(super()._save(name, content))

    def exists(self, name: str) -> bool:
        with _translated(name):
            return bool(super().exists(name))

    def delete(self, name: str) -> None:
        with _translated(name):
            super().delete(name)

    def size(self, name: str) -> int:
        with _translated(name):
            return int(super().size(name))

    def listdir(self, path: str) -> Any:
        with _translated(path):
            return super().listdir(path)
