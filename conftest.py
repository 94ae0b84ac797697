from __future__ import annotations

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from django.test import Client

from tests.world import World, build_world

# Long harnesses start first, so that with pytest-xdist (`make test` runs `-n 2 --dist loadfile`) they run
# beside the many short tests instead of being the tail of the run.
LONG_MARKERS = ("slow", "integration", "browser", "fuzz")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # schemathesis gives every API operation's test the same node id (the function's); pytest-xdist
    # schedules by node id and would run only the first of them. Each gets its own, with its operation.
    from _pytest.nodeid import NodeId

    seen: dict[str, int] = {}
    for item in items:
        seen[item.nodeid] = seen.get(item.nodeid, 0) + 1
    for item in items:
        if seen[item.nodeid] > 1 and item.parent is not None:
            item._id = NodeId.parse(f"{item.parent.nodeid}::{item.name}")
    long_files = {item.path for item in items if any(item.get_closest_marker(m) for m in LONG_MARKERS)}
    items.sort(key=lambda item: item.path not in long_files)  # stable: order within a file is kept


# Plaintexts of personal data sealed during the current test (ID numbers, phones). Every response
# of the whole suite is checked: a user without resident.unmask never receives one in full, and a
# user with it only from an unmask endpoint.
SEALED: set[str] = set()


@pytest.fixture(scope="session", autouse=True)
def _media_of_this_process(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Uploaded files, exports and audit archives of the run go to a temporary directory of this
    process (one per pytest-xdist worker), never var/media: two workers never share a file."""
    from django.test.utils import override_settings

    media = tmp_path_factory.mktemp("media")
    override = override_settings(MEDIA_ROOT=str(media), GRIDGOV_AUDIT_ARCHIVE_DIR=media / "audit-archive")
    override.enable()
    yield
    override.disable()


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_sqlite_audit_guard():  # type: ignore[no-untyped-def]
    """Transactional tests end with a flush. PostgreSQL's is a TRUNCATE (no row triggers); SQLite's is a
    DELETE of every row, which the audit log's guard triggers refuse: the flush drops them and puts them
    back (audit/migrations/0007_keyed_chain.py), for tests only."""
    import importlib

    from django.core.management.commands import flush
    from django.db import connections

    guard = importlib.import_module("gridgov.audit.migrations.0007_keyed_chain")
    real_handle = flush.Command.handle

    def handle(self, **options):  # type: ignore[no-untyped-def]
        connection = connections[options.get("database") or "default"]
        if connection.vendor != "sqlite":
            return real_handle(self, **options)
        with connection.cursor() as cursor:
            for sql in guard.SQLITE_UNGUARD:
                if sql.startswith("DROP TRIGGER"):
                    cursor.execute(sql)
        try:
            return real_handle(self, **options)
        finally:
            with connection.cursor() as cursor:
                for sql in guard.SQLITE_GUARD:
                    cursor.execute(sql)

    flush.Command.handle = handle
    yield
    flush.Command.handle = real_handle


@pytest.fixture(autouse=True)
def _no_plaintext_leaks(monkeypatch: pytest.MonkeyPatch) -> None:
    from gridgov.access.roles import P
    from gridgov.access.scope import scope_for
    from gridgov.core import fieldcrypto
    from gridgov.residents.protected import ID_PURPOSE, PHONE_PURPOSE

    personal_purposes = {ID_PURPOSE, PHONE_PURPOSE}
    SEALED.clear()
    real_encrypt = fieldcrypto.encrypt

    def recording_encrypt(plaintext: str, *, purpose: str) -> str:
        if purpose in personal_purposes:
            SEALED.add(plaintext)
        return real_encrypt(plaintext, purpose=purpose)

    monkeypatch.setattr(fieldcrypto, "encrypt", recording_encrypt)
    real_request = Client.request

    def checked_request(self, **request):  # type: ignore[no-untyped-def]
        response = real_request(self, **request)
        user = getattr(getattr(response, "wsgi_request", None), "user", None)
        path = request.get("PATH_INFO", "")
        may_unmask = user is not None and user.is_authenticated and scope_for(user).can(P.RESIDENT_UNMASK)
        if not (may_unmask and "unmask" in path) and not getattr(response, "streaming", False):
            body = response.content.decode("utf-8", "replace")
            leaked = [s for s in SEALED if s and s in body]
            assert not leaked, f"{path} showed full personal data to {user}: {leaked}"
        return response

    monkeypatch.setattr(Client, "request", checked_request)


@pytest.fixture(autouse=True)
def _no_secrets_in_logs(request):  # type: ignore[no-untyped-def]
    """Every log record of every test is scanned for secrets and unmasked personal data (tests/logguard.py).
    Fuzz tests (marked `fuzz`) are exempt: the request log echoes their random paths, which can
    happen to form a valid ID number; they use no personal data of the world."""
    from tests.logguard import guarded_logs

    if request.node.get_closest_marker("fuzz"):
        yield
        return
    with guarded_logs(lambda: SEALED):
        yield


@pytest.fixture(autouse=True)
def _fresh_security_policy():  # type: ignore[no-untyped-def]
    """The security policy is cached for a minute; a rolled-back test must not leave its policy behind."""
    from gridgov.access.policy import forget_policy

    forget_policy()
    yield
    forget_policy()



@pytest.fixture(autouse=True)
def _builtin_catalogues(request):  # type: ignore[no-untyped-def]
    """Transactional tests start after another one may have flushed every table: load the
    migrations' catalogues (kinds, roles, tags…) again when they are gone."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        from tests.builtins import ensure_builtins
        from tests.cleanup import remember_start

        request.getfixturevalue("transactional_db")
        ensure_builtins()
        remember_start()  # tests/cleanup.py: the end of the test returns to this state without a flush


def _install_fast_cleanup() -> None:
    """Transactional tests end through tests/cleanup.py (delete what the test wrote) and fall back to
    Django's flush, followed by the catalogues, when that cannot restore the state the test started in."""
    from django.test import TransactionTestCase

    from tests import cleanup

    flush = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):  # type: ignore[no-untyped-def]
        if not cleanup.reset(list(self._databases_names(include_mirrors=False))):
            flush(self)
            # Leave the catalogues in place for whatever runs next in this process: with pytest-xdist a
            # test without transaction=True may well come after this one.
            from tests.builtins import ensure_builtins

            ensure_builtins()

    TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[method-assign]


_install_fast_cleanup()


@pytest.fixture
def world(db: None) -> World:
    from gridgov.units import locate
    from tests.builtins import ensure_builtins

    ensure_builtins()
    locate.invalidate()
    return build_world()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """pytest-django's test database; on PostgreSQL its commits do not wait for the disk
    (synchronous_commit=off, for this database only: transactional tests, the live server and the
    integration servers commit thousands of times). What a commit makes visible is unchanged."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cur:
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            cur.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
            cur.execute("SET synchronous_commit = off")
    return django_db_setup


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server, django_db_blocker):  # type: ignore[no-untyped-def]
    """pytest-django's live server, warmed up once per process: its first request (URL configuration,
    templates, static file finders) takes seconds, on a busy machine more than a browser test's page
    timeout; whichever browser test comes first (xdist decides) must not pay for it."""
    import contextlib
    import urllib.request

    with django_db_blocker.unblock():
        for path in ("/login/", "/static/htmx/htmx.min.js"):
            with contextlib.suppress(OSError):  # only a warm-up: the tests check the answers
                urllib.request.urlopen(live_server.url + path, timeout=120).read()  # noqa: S310
    return live_server


@pytest.fixture
def login(client: Client):  # type: ignore[no-untyped-def]
    """login(user) → a test client signed in as that user."""

    def _login(user):  # type: ignore[no-untyped-def]
        c = Client()
        c.force_login(user)
        return c

    return _login


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():  # type: ignore[no-untyped-def]
    """One Debian Chromium for the whole run (per xdist worker), shared by every browser test:
    Playwright's sync API allows one driver per process, and starting Chromium costs seconds."""
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def browser(chromium):  # type: ignore[no-untyped-def]
    """The shared Chromium; every context (and page) a test opens is closed when the test ends, so
    no page of one test keeps talking to the live server while the next test runs."""
    before = set(chromium.contexts)
    try:
        yield chromium
    finally:
        for context in chromium.contexts:
            if context not in before:
                context.close()
