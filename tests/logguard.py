"""Suite-wide log capture (等保 level 3: no secrets or unmasked personal data in any log).

Every log record any test produces (INFO and above, as deployments log) is kept; after the test
each one is scanned for secrets (SECRET_KEY, the field-encryption and blind-index keys, TOTP
secrets, the test and demo passwords) and for unmasked personal data (ID numbers and phones sealed
during the test, any valid 18-digit ID number, any mobile number). A hit fails the test that logged it.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Iterator

import pytest

# Not inside a longer run of digits or letters, nor the fraction of a decimal (0.004715265000413638s).
MOBILE = re.compile(r"(?<![0-9A-Za-z.])1[3-9]\d{9}(?![0-9A-Za-z])")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z.])\d{17}[\dXx](?![0-9A-Za-z])")
# A personal API token (gridgov.access.tokens: "ggt_" + 43 URL-safe characters); its 10-character prefix
# alone, as lists show it, is not a secret.
API_TOKEN = re.compile(r"ggt_[A-Za-z0-9_\-]{20,}")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def record_text(record: logging.LogRecord) -> str:
    try:
        text = record.getMessage()
    except Exception:  # a broken format string still gets scanned raw
        text = f"{record.msg} {record.args}"
    if record.exc_info and record.exc_info[1] is not None:
        text += f" {record.exc_info[1]!r}"
    extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
    if extra:
        text += f" {extra}"
    return text


_STANDARD = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {"message", "asctime"}


def secrets_to_find() -> set[str]:
    from django.conf import settings

    from gridgov.access.world import DEMO_PASSWORD
    from gridgov.core import fieldcrypto
    from tests.world import PASSWORD

    found = {settings.SECRET_KEY, PASSWORD, DEMO_PASSWORD}
    keys = fieldcrypto.keys()
    for raw in (keys.index_key, *keys.by_id.values()):
        found.add(base64.b64encode(raw).decode())
        found.add(raw.hex())
    return {s for s in found if s}


def valid_id_number(text: str) -> bool:
    """The check digit holds and the birth date is a real date (as every issued ID number's is)."""
    from gridgov.residents.idnumber import check_char

    try:
        born = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2100 and check_char(text[:17]) == text[17].upper()


def scan(texts: Iterable[str], sealed: Iterable[str]) -> list[str]:
    """Problems found in these log lines: each names the kind of leak, never the leaked value."""
    problems: list[str] = []
    secrets = secrets_to_find()
    sealed = {s for s in sealed if s}
    for text in texts:
        short = text[:120]
        if any(s in text for s in secrets):
            problems.append(f"a secret in a log line: {short!r}"[:200])
        elif API_TOKEN.search(text):
            problems.append("an API token in a log line")
        elif any(s in text for s in sealed):
            problems.append("sealed personal data (ID number or phone) in a log line")
        elif any(valid_id_number(m) for m in ID_NUMBER.findall(text)):
            problems.append("a full ID number in a log line")
        elif MOBILE.search(text):
            problems.append("a full mobile number in a log line")
    return problems


@contextlib.contextmanager
def guarded_logs(sealed: Callable[[], Iterable[str]]) -> Iterator[Capture]:
    """Capture every record while the block runs; fail afterwards on any leak."""
    capture = Capture()
    root = logging.getLogger()
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
    problems = scan((record_text(r) for r in capture.records), sealed())
    if problems:
        pytest.fail("log records leak:\n" + "\n".join(problems), pytrace=False)
