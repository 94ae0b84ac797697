"""The register of personal data (个人信息保护法 Art. 51, GB/T 35273 §5): every model field that holds
personal data, named "app_label.Model.field", with why it is kept, its sensitivity class and how
long. `tests/security/test_personal_data_registry.py` walks every model and fails on a field that
looks personal but is in neither list below, and on an entry naming a field that does not exist.

Sensitivity classes:
- SENSITIVE (敏感个人信息, PIPL Art. 28): ID numbers, health and disability, minors, key-group tags
  (低保, petitioners…), free text about a person's circumstances; encrypted or masked, unmasked only
  with a reason and audited.
- PERSONAL (一般个人信息): names, phones, addresses, birth dates, household relations.
- STAFF: staff members' work identity (name, work phone, account), kept for accountability.
"""

from __future__ import annotations

from dataclasses import dataclass

SENSITIVE = "sensitive"
PERSONAL = "personal"
STAFF = "staff"

# Retention rules, referred to by the entries (the jobs that enforce them are named).
LEDGER = ("while the resident is in the ledger; purged `resident_retention_days` (security policy, default "
          "1095) after moving out or death (residents.retention.residents_purge, daily)")
REPORTER = ("until the case ends, then erased after PHONE_RETENTION_DAYS = 30 days, well inside the 180-day "
            "ceiling (cases.public.services.reporter_phones_purge, daily)")
CASE_RECORD = "with the case record (archives rules); names only as typed by the reporter or staff"
ACCOUNT = "while the account exists; disabled after 90 idle days (access.lifecycle), kept for the audit trail"
AUDIT = "at least 184 days (网络安全法 Art. 21), GRIDGOV_AUDIT_RETENTION_DAYS"
EXPORT_FILE = "24 hours after it is built, then deleted (residents.exports.exports_expire, hourly)"
IMPORT_FILE = "the uploaded sheet until the import finishes + 30 days (residents.retention.import_files_purge)"
DELIBERATION = ("with the village's deliberation record (村务档案); voters' and raisers' names sealed, shown "
                "masked")
OUTBOX = "until delivered; inbox messages with the recipient's account"
DUTY_RECORD = "with the duty list and the points ledger (staff assessment records, linked to pay)"
MEDIATION = ("with the mediation ledger (调解台账, archived with the committee's files); parties' data sealed, "
             "shown in full only with a reason (mediation.services.mediation_parties_unmask, audited)")


@dataclass(frozen=True)
class PersonalField:
    purpose: str
    sensitivity: str
    retention: str


def _f(purpose: str, sensitivity: str, retention: str) -> PersonalField:
    return PersonalField(purpose, sensitivity, retention)


PERSONAL_FIELDS: dict[str, PersonalField] = {
    # --- the household ledger ---------------------------------------------------------------------------
    "residents.Household.address": _f("where the household lives: visits, grid assignment", PERSONAL, LEDGER),
    "residents.Household.house_number": _f("door number for visits", PERSONAL, LEDGER),
    "residents.Household.lat": _f("map position for point-in-grid", PERSONAL, LEDGER),
    "residents.Household.lng": _f("map position for point-in-grid", PERSONAL, LEDGER),
    "residents.Household.phone_cipher": _f("household contact phone, encrypted", PERSONAL, LEDGER),
    "residents.Household.phone_index": _f("blind index for exact phone search", PERSONAL, LEDGER),
    "residents.Household.phone_masked": _f("masked phone for display", PERSONAL, LEDGER),
    "residents.Household.notes": _f("grid worker's notes on the household", SENSITIVE, LEDGER),
    "residents.Resident.name": _f("identify the person", PERSONAL, LEDGER),
    "residents.Resident.relation": _f("relation to the household head", PERSONAL, LEDGER),
    "residents.Resident.gender": _f("population statistics", PERSONAL, LEDGER),
    "residents.Resident.birth_date": _f("age groups, minors' protection", PERSONAL, LEDGER),
    "residents.Resident.id_cipher": _f("resident ID number (身份证号), encrypted", SENSITIVE, LEDGER),
    "residents.Resident.id_index": _f("blind index for exact ID search and uniqueness", SENSITIVE, LEDGER),
    "residents.Resident.id_masked": _f("masked ID number for display", SENSITIVE, LEDGER),
    "residents.Resident.phone_cipher": _f("personal phone, encrypted", PERSONAL, LEDGER),
    "residents.Resident.phone_index": _f("blind index for exact phone search", PERSONAL, LEDGER),
    "residents.Resident.phone_masked": _f("masked phone for display", PERSONAL, LEDGER),
    "residents.Resident.ethnicity": _f("population statistics", SENSITIVE, LEDGER),
    "residents.Resident.political_status": _f("party-member links (党员联系户)", PERSONAL, LEDGER),
    "residents.Resident.residency": _f("registered, resident or migrant population", PERSONAL, LEDGER),
    "residents.Resident.away_place": _f("where a migrant worker is (left-behind families)", PERSONAL, LEDGER),
    "residents.Resident.away_since": _f("since when away", PERSONAL, LEDGER),
    "residents.Resident.education": _f("population statistics", PERSONAL, LEDGER),
    "residents.Resident.occupation": _f("population statistics, employment help", PERSONAL, LEDGER),
    "residents.Resident.health": _f("care for the ill (大病, 慢性病)", SENSITIVE, LEDGER),
    "residents.Resident.disability": _f("care for the disabled", SENSITIVE, LEDGER),
    "residents.Resident.notes": _f("grid worker's notes on the person", SENSITIVE, LEDGER),
    "residents.HouseholdAssignment.party_member": _f("the party member linked to a household", PERSONAL, LEDGER),
    "residents.TagAssignment.note": _f("why a key-group tag (低保, 特困…) applies", SENSITIVE, LEDGER),
    "residents.TagAssignment.resident": _f("which person belongs to a key group", SENSITIVE, LEDGER),
    "residents.TagAssignment.household": _f("which household belongs to a key group", SENSITIVE, LEDGER),
    "residents.HouseholdEvent.changes": _f("history of ledger changes (never ID numbers or phones)", PERSONAL,
                                           LEDGER),
    "residents.HouseholdEvent.resident": _f("whom a history row is about", PERSONAL, LEDGER),
    "residents.HouseholdEvent.household": _f("which household a history row is about", PERSONAL, LEDGER),
    "residents.HouseholdEvent.other_household": _f("the other household of a merge or split", PERSONAL, LEDGER),
    "residents.ImportJob.content": _f("the uploaded ledger sheet", SENSITIVE, IMPORT_FILE),
    "residents.ImportJob.errors": _f("row errors, values masked", PERSONAL, IMPORT_FILE),
    "residents.ImportJob.filename": _f("the uploaded file's name", PERSONAL, IMPORT_FILE),
    "residents.BulkExport.file": _f("an approved bulk export (masked, watermarked)", SENSITIVE, EXPORT_FILE),
    "residents.BulkExport.reason": _f("why the export was asked for", PERSONAL, AUDIT),
    "cases.ReporterDisclosure.reason": _f("why the office let a department see the reporter", PERSONAL,
                                          CASE_RECORD),
    "residents.BulkExport.watermark": _f("who exported, when", STAFF, AUDIT),
    # --- cases ----------------------------------------------------------------------------------------------
    "cases.Case.reporter_name_cipher": _f("who reported, to answer them (sealed)", PERSONAL, CASE_RECORD),
    "cases.Case.reporter_name_masked": _f("who reported, masked for every page (王*)", PERSONAL, CASE_RECORD),
    "cases.Case.reporter_phone_cipher": _f("call the reporter back (sealed)", PERSONAL, REPORTER),
    "cases.Case.reporter_phone_masked": _f("the reporter's phone, masked (138****5678)", PERSONAL, REPORTER),
    "cases.Case.address": _f("where the problem is", PERSONAL, CASE_RECORD),
    "cases.Case.lat": _f("where the problem is (map)", PERSONAL, CASE_RECORD),
    "cases.Case.lng": _f("where the problem is (map)", PERSONAL, CASE_RECORD),
    "cases.Case.description": _f("what the resident reported (may name people)", SENSITIVE, CASE_RECORD),
    "cases.Case.title": _f("short title of the report", PERSONAL, CASE_RECORD),
    "cases.Case.result": _f("how it was handled", PERSONAL, CASE_RECORD),
    "cases.Case.rating_note": _f("the resident's comment on the result", PERSONAL, CASE_RECORD),
    "cases.Case.tracking_token": _f("the reporter's private tracking link", PERSONAL, CASE_RECORD),
    "cases.Case.reported_by": _f("staff who reported", STAFF, CASE_RECORD),
    "cases.Case.household": _f("the household a case concerns", PERSONAL, CASE_RECORD),
    "cases.CaseEvent.note": _f("handlers' notes (may name people)", PERSONAL, CASE_RECORD),
    "cases.CaseEvent.detail": _f("details of a workflow step (follow-up answers, urge counts)", PERSONAL,
                                 CASE_RECORD),
    "cases.CaseAttachment.file": _f("photos and documents of the case", SENSITIVE, CASE_RECORD),
    "cases.CaseAttachment.original_name": _f("the uploaded file's name", PERSONAL, CASE_RECORD),
    "cases_public.FollowUp.comment": _f("the resident's words at the follow-up visit", PERSONAL, CASE_RECORD),
    # --- deliberation (群众议事) -------------------------------------------------------------------------
    "deliberation.Proposal.raiser_name_cipher": _f("the resident who raised the matter (sealed)", PERSONAL,
                                                   DELIBERATION),
    "deliberation.Proposal.raiser_name_masked": _f("who raised the matter, masked (王*)", PERSONAL, DELIBERATION),
    "deliberation.Proposal.raised_by": _f("staff who registered the matter", STAFF, DELIBERATION),
    "deliberation.Proposal.description": _f("the matter as raised (may name people)", PERSONAL, DELIBERATION),
    "deliberation.Proposal.title": _f("short title of the matter", PERSONAL, DELIBERATION),
    "deliberation.Proposal.notice_text": _f("the public notice (公示) text", PERSONAL, DELIBERATION),
    "deliberation.Proposal.outcome_text": _f("how the decision was carried out", PERSONAL, DELIBERATION),
    "deliberation.ProposalEvent.note": _f("notes on a stage step (may name people)", PERSONAL, DELIBERATION),
    "deliberation.ProposalEvent.detail": _f("counts and dates of a stage step", PERSONAL, DELIBERATION),
    "deliberation.ConsultationNote.text": _f("opinions gathered (谋事), may name people", PERSONAL, DELIBERATION),
    "deliberation.Voter.name_cipher": _f("an eligible voter's name (sealed)", PERSONAL, DELIBERATION),
    "deliberation.Voter.name_masked": _f("an eligible voter's name, masked (王*)", PERSONAL, DELIBERATION),
    "deliberation.Voter.household": _f("the household a household representative stands for", PERSONAL,
                                       DELIBERATION),
    "deliberation.Voter.attended": _f("whether the voter attended the meeting", PERSONAL, DELIBERATION),
    "deliberation.Ballot.choice": _f("how a representative voted (open vote of the meeting)", PERSONAL,
                                     DELIBERATION),
    "deliberation.Ballot.voter": _f("who cast the ballot", PERSONAL, DELIBERATION),
    "deliberation.ProgressEntry.text": _f("implementation progress (审事)", PERSONAL, DELIBERATION),
    "deliberation.Evaluation.comment": _f("a resident's comment on the result (anonymous)", PERSONAL, DELIBERATION),
    # --- mediation (矛盾纠纷调解) ------------------------------------------------------------------------------
    "mediation.MediationCase.title": _f("short name of the dispute (may name a family)", PERSONAL, MEDIATION),
    "mediation.MediationCase.summary": _f("what the dispute is about (people's circumstances)", SENSITIVE,
                                          MEDIATION),
    "mediation.MediationCase.agreement_terms_cipher": _f("the agreement's terms (sealed)", SENSITIVE, MEDIATION),
    "mediation.MediationCase.outcome_note": _f("why mediation failed or ended", SENSITIVE, MEDIATION),
    "mediation.MediationCase.co_mediators": _f("other people who mediated (五老, 金牌调解员)", PERSONAL, MEDIATION),
    "mediation.MediationCase.presiding": _f("the presiding mediator (调解主持人)", STAFF, MEDIATION),
    "mediation.MediationCase.registered_by": _f("staff who registered the dispute", STAFF, MEDIATION),
    "mediation.MediationParty.name_cipher": _f("a party's name (sealed)", PERSONAL, MEDIATION),
    "mediation.MediationParty.name_masked": _f("a party's name, masked (王*)", PERSONAL, MEDIATION),
    "mediation.MediationParty.phone_cipher": _f("a party's phone (sealed)", PERSONAL, MEDIATION),
    "mediation.MediationParty.phone_masked": _f("a party's phone, masked (138****5678)", PERSONAL, MEDIATION),
    "mediation.MediationParty.id_cipher": _f("a party's ID number for the agreement (sealed)", SENSITIVE,
                                             MEDIATION),
    "mediation.MediationParty.id_masked": _f("a party's ID number, masked", SENSITIVE, MEDIATION),
    "mediation.MediationSession.place": _f("where a sitting was held (may be a home)", PERSONAL, MEDIATION),
    "mediation.MediationSession.attendees": _f("who attended a sitting", PERSONAL, MEDIATION),
    "mediation.MediationSession.notes_cipher": _f("what was said at a sitting (sealed)", SENSITIVE, MEDIATION),
    "mediation.MediationSession.recorded_by": _f("staff who recorded the sitting", STAFF, MEDIATION),
    "mediation.MediationEvent.note": _f("mediators' notes on a step (may name people)", PERSONAL, MEDIATION),
    "mediation.MediationEvent.detail": _f("details of a step (channel, fulfilment, numbers)", PERSONAL,
                                          MEDIATION),
    # --- staff accounts, audit, messages --------------------------------------------------------------------
    "access.User.username": _f("personal sign-in name", STAFF, ACCOUNT),
    "access.User.full_name": _f("who acts (accountability, grid boards)", STAFF, ACCOUNT),
    "access.User.first_name": _f("unused (Django's field), left empty", STAFF, ACCOUNT),
    "access.User.last_name": _f("unused (Django's field), left empty", STAFF, ACCOUNT),
    "access.User.email": _f("unused (Django's field), left empty", STAFF, ACCOUNT),
    "access.User.work_phone": _f("work phone printed on grid boards", STAFF, ACCOUNT),
    "access.User.password": _f("Argon2 hash of the password", STAFF, ACCOUNT),
    "access.Grant.title": _f("staff member's post (职务)", STAFF, ACCOUNT),
    "access.TotpDevice.secret_cipher": _f("authenticator secret, encrypted", STAFF, ACCOUNT),
    "access.StaffSession.ip": _f("where a session signed in from (「我的登录」)", STAFF, ACCOUNT),
    "access.StaffSession.user_agent": _f("which device a session is on (「我的登录」)", STAFF, ACCOUNT),
    "access.ApiToken.token_hash": _f("SHA-256 of a personal API token (the token itself is never kept)", STAFF,
                                     ACCOUNT),
    "audit.AuditEvent.actor_username": _f("who acted", STAFF, AUDIT),
    "audit.AuditEvent.ip": _f("from where (等保 audit record)", STAFF, AUDIT),
    "audit.AuditEvent.detail": _f("what was done (never plaintext ID numbers or phones)", PERSONAL, AUDIT),
    "audit.AuditArchive.file": _f("archived audit rows past the retention, with their hash chain (audit.archive)",
                                  PERSONAL, "kept as the archive of the audit log (files under "
                                  "GRIDGOV_AUDIT_ARCHIVE_DIR, in the backups); rows leave the table only after "
                                  "GRIDGOV_AUDIT_RETENTION_DAYS ≥ 184"),
    "notify.Outbox.payload": _f("message to deliver (names, never ID numbers)", PERSONAL, OUTBOX),
    "notify.InboxMessage.body": _f("in-app message text", PERSONAL, OUTBOX),
    "notify.InboxMessage.title": _f("in-app message title", PERSONAL, OUTBOX),
    # Workforce: duty lists may name households or people; points and assessments are about staff.
    "workforce.DutyList.title": _f("a task's title (may name a place or household)", PERSONAL, DUTY_RECORD),
    "workforce.DutyList.description": _f("what the task asks (may name households)", PERSONAL, DUTY_RECORD),
    "workforce.DutyItem.evidence_text": _f("what the worker did (may name households)", PERSONAL, DUTY_RECORD),
    "workforce.DutyItem.evidence_photo": _f("on-site photo as evidence (may show people, homes)", SENSITIVE,
                                            DUTY_RECORD),
    "workforce.DutyEvent.note": _f("notes on a task's history (return reasons)", PERSONAL, DUTY_RECORD),
    "workforce.PointEntry.reason": _f("why a staff member gained or lost points (pay-linked)", STAFF, DUTY_RECORD),
    "workforce.AssessmentRow.name": _f("the assessed staff member's name", STAFF, DUTY_RECORD),
    "workforce.Assessment.note": _f("the circular's wording (names staff)", STAFF, DUTY_RECORD),
}

# Fields whose names look personal but hold none, with the reason (so the walk stays strict).
VISIT_LOG = ("with the household's ledger entry (the visit log is part of 户情台账); purged with the household "
             "by residents.retention when it leaves the ledger")
PERSONAL_FIELDS.update({
    # --- visits (走访 / 民情日记) ----------------------------------------------------------------------------
    "visits.Visit.household": _f("which household was visited", PERSONAL, VISIT_LOG),
    "visits.Visit.notes_cipher": _f("what the grid worker saw and heard (health, hardship), sealed", SENSITIVE,
                                    VISIT_LOG),
    "visits.Visit.notes_length": _f("length of the sealed notes, shown in lists instead of the text", PERSONAL,
                                    VISIT_LOG),
    "visits.Visit.lat": _f("where the visit was logged (at the door)", PERSONAL, VISIT_LOG),
    "visits.Visit.lng": _f("where the visit was logged (at the door)", PERSONAL, VISIT_LOG),
    "visits.Visit.photo": _f("a photo taken on the visit (may show the home and people)", SENSITIVE, VISIT_LOG),
    "visits.Visit.photo_type": _f("the photo's checked file type", PERSONAL, VISIT_LOG),
    "visits.Visit.photo_size": _f("the photo's size", PERSONAL, VISIT_LOG),
})

# Notices: who was reached how, and residents' replies (有困难 may describe a household's hardship).
NOTICE_RECORD = ("with the notice's record (the reach of every household, kept for the office's file); the "
                 "public link shows none of it")
PERSONAL_FIELDS.update({
    "notices.Notice.title": _f("a notice's title (may name a place)", PERSONAL, NOTICE_RECORD),
    "notices.Notice.text": _f("a notice's text (may name a place)", PERSONAL, NOTICE_RECORD),
    "notices.NoticeEvent.note": _f("notes on a notice's history (reject reasons)", STAFF, NOTICE_RECORD),
    "notices.Delivery.household": _f("which household a notice reached", PERSONAL, NOTICE_RECORD),
    "notices.Delivery.reason": _f("why a household could not be reached (away, phone off)", PERSONAL, NOTICE_RECORD),
    "notices.Delivery.token": _f("the household's unguessable link to the notice (no data on its page)", PERSONAL,
                                 NOTICE_RECORD),
    "notices.Reply.text": _f("a household's difficulty in its own words", SENSITIVE, NOTICE_RECORD),
})


NOT_PERSONAL: dict[str, str] = {
    "access.PasswordHistory.password_hash": "a one-way hash of a former password (no password kept)",
    "access.SecurityPolicy.password_history": "how many former passwords may not be reused (a number)",
    "units.UnitKind.name": "a kind of unit (村, 网格)",
    "scheduling.JobState.name": "a scheduled job's name (cases-sweep, audit-seal)",
    "scheduling.JobState.last_result": "a job's last counts (warned 3, sealed 120): figures, no person",
    "processes.Routine.name": "a recurring routine's name (支部说事日, 五个到户敲门行动)",
    "processes.Routine.description": "what a routine's occurrences are for (set by an office, about work, not people)",
    "units.Theme.name": "a theme of the grid (多网合一)",
    "units.Unit.name": "a place name",
    "units.LevelName.name": "a level's name",
    "access.Role.name": "a role's name",
    "access.Department.name": "a department's name",
    "access.Department.phone": "a department's office phone, public",
    "residents.Tag.name": "a key group's name",
    "cases.Category.name": "a category's name",
    "cases.CalendarOverride.note": "why a day is a holiday or workday",
    "residents.BulkExport.params": "the unit an export covers",
    "insights.ReportRun.pdf": "aggregate figures, no person",
    "insights.ReportRun.xlsx": "aggregate figures, no person",
    "insights.ReportRun.message": "progress text",
    "audit.AuditEvent.key_id": "which audit chain key sealed the row (a key's name, never the key), no person",
    "insights.DayFact.unit_id": "a unit of the hierarchy (daily totals per unit), no person",
    "insights.DayFact.category_id": "a case category (daily totals per category), no person",
    "insights.MonthFact.unit_id": "a unit of the hierarchy (monthly totals per unit), no person",
    "insights.ReturnFact.case_id": "which case was returned a second time on a day (ping-pong), no person; "
                                   "the case itself is read only through the reader's scope",
    "insights.ReturnFact.category_id": "a case category, no person",
    "residents.ImportJob.message": "summary counts",
    "notify.Outbox.last_error": "a channel's error text",
    "access.SecurityPolicy.password_max_age_days": "a policy setting",
    "access.SecurityPolicy.resident_retention_days": "a policy setting",
    "access.SecurityPolicy.api_token_hours": "a policy setting",
    "access.ApiToken.name": "what a token is for (手机 App), typed by its owner",
    "access.ApiToken.revoke_reason": "a coded reason (owner, security_admin, password_changed…)",
    "access.User.must_change_password": "an account flag",
    "access.User.password_changed_at": "when the password was last set (no secret)",
    "cases.CaseAttachment.content_type": "a file type",
    "cases.CaseEvent.reason_code": "a coded reason for a return",
    "deliberation.TalkDay.topic": "the topic of a talk day, no person",
    "deliberation.Proposal.result": "the computed result of a vote (通过/未通过), no person",
    "deliberation.VoteMeeting.result": "the computed result of a vote, no person",
    "deliberation.VoteMeeting.body": "which assembly votes (村民代表会议…), no person",
    "units.Unit.centroid_lat": "a unit's centre, a place",
    "units.Unit.centroid_lng": "a unit's centre, a place",
    "units.Unit.household_estimate": "a count",
    "units.UnitEvent.changes": "edits of a unit (names, boundaries), no person",
    "workforce.PointEntry.source_id": "the id of the scored object (a case, a duty item, a visit)",
    "workforce.AssessmentRow.grid_name": "a grid's name, a place",
    "workforce.FeedCursor.name": "the name of a feed of facts (cases, visits)",
    "visits.Visit.case_id": "the case raised from a visit (a link, the case carries its own data)",
    "visits.VisitCampaign.name": "a campaign's title (集中走访)",
    "mediation.MediationCase.source_case_id": "the id of the case a dispute was referred from (转调解)",
}
