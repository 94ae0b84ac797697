"""Running numbers of cases and of the four forms, per county, year and kind: 140225-2026-J00012.

On PostgreSQL each (county, year, kind) has its own SEQUENCE, created on first use and started
after whatever the `FormCounter` row already records (numbers given by the world generator or
before this module). `nextval` takes no row lock and is not rolled back, so intakes in one county
no longer queue behind each other's transactions: numbers are unique (a sequence never repeats,
and `Case.number` is unique besides) but may have gaps where a transaction rolled back, and are not
strictly in commit order. That is what the printed forms need: a number nobody else has.

Elsewhere (SQLite: one writer at a time anyway) the locked `FormCounter` row is the counter.
"""

from __future__ import annotations

from django.db import DatabaseError, IntegrityError, connection, transaction

from gridgov.units.models import Unit

from .models import FormCounter

KINDS = frozenset({"report", "dispatch", "urge", "feedback"})


def number_prefix(*, county_id: int, division_code: str | None) -> str:
    """A case's number prefix: the county's division code (its first 6 digits), or the county's id when
    it has none. Captured on the case at creation (`Case.number_prefix`) and used by all its forms."""
    return (division_code or "")[:6] or str(county_id)


def _uses_sequences() -> bool:
    return connection.vendor == "postgresql"


def sequence_name(county_id: int, year: int, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown form kind {kind}")
    return f"gridgov_no_{int(county_id)}_{int(year)}_{kind}"


def next_value(*, county_id: int, year: int, kind: str) -> int:
    if _uses_sequences():
        return _sequence_next(county_id, year, kind)
    return _counter_next(county_id, year, kind)


def next_values(*, county_id: int, year: int, kind: str, n: int) -> list[int]:
    """`n` numbers at once (the deadline sweep numbers a batch of urge forms in one round trip)."""
    if n <= 0:
        return []
    if not _uses_sequences():
        last = _counter_next(county_id, year, kind, n)
        return list(range(last - n + 1, last + 1))
    with connection.cursor() as cur:
        cur.execute("SELECT nextval(to_regclass(%s)) FROM generate_series(1, %s)",
                    [sequence_name(county_id, year, kind), n])
        values = [row[0] for row in cur.fetchall()]
    if values and values[0] is not None:
        return [int(v) for v in values]
    first = _sequence_next(county_id, year, kind)  # creates the sequence
    return [first, *next_values(county_id=county_id, year=year, kind=kind, n=n - 1)]


def _counter_next(county_id: int, year: int, kind: str, n: int = 1) -> int:
    counter = FormCounter.objects.select_for_update().filter(county_id=county_id, year=year, kind=kind).first()
    if counter is None:
        try:
            with transaction.atomic():
                FormCounter.objects.create(county_id=county_id, year=year, kind=kind, last=0)
        except IntegrityError:
            pass
        counter = FormCounter.objects.select_for_update().get(county_id=county_id, year=year, kind=kind)
    counter.last += n
    counter.save(update_fields=["last"])
    return counter.last


def _sequence_next(county_id: int, year: int, kind: str) -> int:
    name = sequence_name(county_id, year, kind)
    with connection.cursor() as cur:
        # to_regclass() is NULL for a missing sequence and nextval(NULL) is NULL: one round trip, no
        # savepoint, and no error to abort the caller's transaction.
        cur.execute("SELECT nextval(to_regclass(%s))", [name])
        value = cur.fetchone()[0]
        if value is not None:
            return int(value)
        start = (FormCounter.objects.filter(county_id=county_id, year=year, kind=kind)
                 .values_list("last", flat=True).first() or 0) + 1
        try:
            with transaction.atomic():
                # The name is built from integers and a fixed kind: safe to interpolate.
                cur.execute(f'CREATE SEQUENCE IF NOT EXISTS "{name}" START WITH {int(start)} MINVALUE 1')
        except DatabaseError:
            pass  # another intake created it at the same moment: use theirs
        cur.execute("SELECT nextval(%s::regclass)", [name])
        return int(cur.fetchone()[0])


def last_given(*, county_id: int, year: int, kind: str) -> int:
    """The highest number given so far (for the world generator, which numbers in bulk)."""
    last = (FormCounter.objects.filter(county_id=county_id, year=year, kind=kind)
            .values_list("last", flat=True).first() or 0)
    if _uses_sequences():
        name = sequence_name(county_id, year, kind)
        with connection.cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", [name])
            if cur.fetchone()[0] is not None:
                cur.execute(f'SELECT last_value, is_called FROM "{name}"')  # noqa: S608 - name from integers
                value, called = cur.fetchone()
                last = max(last, int(value) if called else int(value) - 1)
    return last


def advance_to(*, county_id: int, year: int, kind: str, last: int) -> None:
    """Record that numbers up to `last` are taken (after a bulk generation): the counter row, and the
    sequence when there is one, never go backwards."""
    counter, _ = FormCounter.objects.select_for_update().get_or_create(
        county_id=county_id, year=year, kind=kind, defaults={"last": 0})
    if counter.last < last:
        counter.last = last
        counter.save(update_fields=["last"])
    if _uses_sequences():
        name = sequence_name(county_id, year, kind)
        with connection.cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", [name])
            if cur.fetchone()[0] is not None:
                cur.execute(f'SELECT setval(%s::regclass, GREATEST((SELECT last_value FROM "{name}"), %s))',  # noqa: S608
                            [name, last])


class FormKind:
    REPORT = "report"  # 申报单
    DISPATCH = "dispatch"  # 交办单
    URGE = "urge"  # 催办单
    FEEDBACK = "feedback"  # 反馈单
    LETTER = {REPORT: "S", DISPATCH: "J", URGE: "C", FEEDBACK: "F"}



def next_number(*, county: Unit, year: int, kind: str, prefix: str = "") -> str:
    """The next running number of a form, per county and year: 140225-2026-J00012 (see numbering);
    `prefix`: the case's number prefix captured at its creation (the county's code then)."""
    return form_number(county_id=county.pk, division_code=county.division_code, year=year, kind=kind,
                       value=next_value(county_id=county.pk, year=year, kind=kind), prefix=prefix)


def form_number(*, county_id: int, division_code: str | None, year: int, kind: str, value: int,
                prefix: str = "") -> str:
    prefix = prefix or number_prefix(county_id=county_id, division_code=division_code)
    return f"{prefix}-{year}-{FormKind.LETTER[kind]}{value:05d}"

