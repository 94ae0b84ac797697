"""The scheduled jobs' functions (config/jobs.py names them): each takes `now` and returns its counts, the
figures the jobs page shows as the last result. Thin: each calls the idempotent job function of its domain
package (safe to run twice or to overlap)."""

from __future__ import annotations

import datetime as dt


def cases_sweep(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.cases.sweep import case_sweep

    report = case_sweep(now=now)
    return {"warned": report.warned, "respond_urged": report.respond_urged, "overdue": report.overdue,
            "escalated": report.escalated, "closed": report.closed}


def notify_deliver(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.notify.services import deliver_pending

    return {"sent": deliver_pending(now=now)}


def audit_seal(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.audit.chain import seal, write_checkpoint

    # Rows are sealed when written (audit_record); what is left unsealed is a backlog from before the keyed
    # chain, sealed here in batches. Then a signed checkpoint of the chain's head goes to the archive storage
    # and the log (audit/chain.py), so truncation or a rewrite is seen from outside the database.
    total = 0
    for _ in range(100):
        made = seal()
        total += made
        if made == 0:
            break
    cp = write_checkpoint(now=now)
    return {"sealed": total, "checkpoints": 1 if cp else 0}


def audit_archive(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.audit.archive import archive_all

    return {"archived": archive_all(now=now)}


def accounts_disable_idle(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.access.lifecycle import accounts_disable_idle as disable

    return {"disabled": disable(now=now)}


def exports_expire(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.residents.exports import exports_expire as expire

    return {"expired": expire(now=now)}


def residents_retention(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.residents.retention import retention_run

    report = retention_run(now=now)
    return {"residents": report.residents, "households": report.households, "import_files": report.import_files}


def reporter_phones_purge(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.cases.public.services import reporter_phones_purge as purge

    return {"purged": purge(now=now)}


def duty_sweep(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.workforce.services import duty_sweep as sweep

    return {"overdue": sweep(now=now)}


def points_feed(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.processes.points_feed import points_feed_run

    return points_feed_run(now=now)  # entries written or found per feed: {"cases": n, "visits": n}


def mediation_remind(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.mediation.reminders import mediation_deadline_remind

    report = mediation_deadline_remind(now=now)
    return {"due_soon": report.due_soon, "overdue": report.overdue}


def insights_facts(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.insights.facts import facts_build

    report = facts_build(now=now)
    return {"days": report.days, "rows": report.rows}


def routines_run(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.processes.routines import routines_run as run

    return run(now=now).counts()


def notices_escalate(*, now: dt.datetime) -> dict[str, int]:
    from gridgov.notices.escalation import notice_escalate

    report = notice_escalate(now=now)
    return {"workers": report.workers, "heads": report.heads}
