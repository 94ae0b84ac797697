"""The built-in roles: named permission sets, granted at a unit and covering its subtree.

Roles live in the database (a security admin may adjust them); this catalogue is what a
new deployment starts with, loaded by a data migration and re-synced by `sync_roles`.
"""

from __future__ import annotations

from dataclasses import dataclass


class P:
    """Permission codes. A permission held at a unit holds in its whole subtree."""

    UNIT_VIEW = "unit.view"
    UNIT_EDIT = "unit.edit"
    STAFF_VIEW = "staff.view"
    GRANT_MANAGE = "grant.manage"
    DEPARTMENT_MANAGE = "department.manage"
    HOUSEHOLD_VIEW = "household.view"
    HOUSEHOLD_EDIT = "household.edit"
    HOUSEHOLD_IMPORT = "household.import"
    HOUSEHOLD_EXPORT = "household.export"
    RESIDENT_UNMASK = "resident.unmask"
    SENSITIVE_TAGS = "resident.sensitive_tags"
    CASE_VIEW = "case.view"
    CASE_REPORT = "case.report"
    CASE_HANDLE = "case.handle"
    CASE_ESCALATE = "case.escalate"
    CASE_ACCEPT = "case.accept"
    CASE_DISPATCH = "case.dispatch"
    CASE_REVIEW = "case.review"
    CASE_SUPERVISE = "case.supervise"
    CASE_DEPARTMENT = "case.department"
    CATEGORY_MANAGE = "category.manage"
    # Mediation (矛盾纠纷调解): see the ledger, register a dispute, preside and record, see parties in full.
    MEDIATION_VIEW = "mediation.view"
    MEDIATION_REGISTER = "mediation.register"
    MEDIATION_HANDLE = "mediation.handle"
    MEDIATION_UNMASK = "mediation.unmask"
    AUDIT_VIEW = "audit.view"
    POLICY_MANAGE = "policy.manage"
    USER_MANAGE = "user.manage"
    # 群众议事: see a unit's proposals; raise one (提事); run the six stages and the vote.
    DELIBERATION_VIEW = "deliberation.view"
    DELIBERATION_PROPOSE = "deliberation.propose"
    DELIBERATION_MANAGE = "deliberation.manage"
    # Workforce (gridgov.workforce): duty lists, points, the monthly assessment.
    DUTY_DO = "duty.do"
    DUTY_ISSUE = "duty.issue"
    WORK_ASSESS = "work.assess"
    POINTS_MANAGE = "points.manage"
    # The scheduled jobs' page (定时任务): the county/township offices and the system admin.
    JOBS_VIEW = "jobs.view"
    # Notices (通知传达): see notices and their reach; mark a household reached; send one; approve one.
    NOTICE_VIEW = "notice.view"
    NOTICE_REACH = "notice.reach"
    NOTICE_SEND = "notice.send"
    NOTICE_APPROVE = "notice.approve"


_FIELD = {P.UNIT_VIEW, P.HOUSEHOLD_VIEW, P.HOUSEHOLD_EDIT, P.CASE_VIEW, P.CASE_REPORT, P.CASE_HANDLE,
          P.DELIBERATION_VIEW, P.DELIBERATION_PROPOSE, P.MEDIATION_VIEW, P.MEDIATION_REGISTER, P.DUTY_DO,
          P.NOTICE_VIEW, P.NOTICE_REACH}
_LEAD = _FIELD | {P.NOTICE_SEND, P.STAFF_VIEW, P.CASE_ESCALATE, P.CASE_ACCEPT, P.SENSITIVE_TAGS, P.MEDIATION_HANDLE}
_MEDIATOR = {P.UNIT_VIEW, P.CASE_VIEW, P.CASE_HANDLE, P.MEDIATION_VIEW, P.MEDIATION_REGISTER, P.MEDIATION_HANDLE,
             P.MEDIATION_UNMASK}
# Who assesses grid workers (村“两委”, 片长, 驻村干部, the offices) and issues them duty lists.
_ASSESS = {P.WORK_ASSESS}
_ISSUE = {P.WORK_ASSESS, P.DUTY_ISSUE, P.NOTICE_APPROVE}
_OFFICE = _LEAD | _ISSUE | {P.POINTS_MANAGE} | {P.MEDIATION_UNMASK,
    P.UNIT_EDIT, P.GRANT_MANAGE, P.DEPARTMENT_MANAGE, P.HOUSEHOLD_IMPORT, P.HOUSEHOLD_EXPORT,
    P.RESIDENT_UNMASK, P.CASE_DISPATCH, P.CASE_REVIEW, P.CASE_SUPERVISE, P.USER_MANAGE, P.DELIBERATION_MANAGE,
}


@dataclass(frozen=True)
class RoleDef:
    code: str
    name: str
    permissions: frozenset[str]
    # Admin roles kept apart (三权分立): one person holds at most one of them.
    admin_duty: bool = False
    # Grid-worker roles must all lie within one township.
    field_worker: bool = False


ROLE_DEFS: tuple[RoleDef, ...] = (
    RoleDef("chief_grid_head", "总网格长",
            frozenset(_LEAD | _ISSUE | {P.UNIT_EDIT, P.GRANT_MANAGE, P.CASE_SUPERVISE, P.DELIBERATION_MANAGE})),
    RoleDef("area_head", "片长", frozenset(_LEAD | _ASSESS)),
    RoleDef("grid_head", "网格长", frozenset(_LEAD)),
    RoleDef("grid_worker_full", "专职网格员", frozenset(_FIELD), field_worker=True),
    RoleDef("grid_worker_part", "兼职网格员", frozenset(_FIELD), field_worker=True),
    RoleDef("info_officer", "信息员", frozenset(_FIELD | {P.HOUSEHOLD_IMPORT})),
    RoleDef("resident_cadre", "驻村干部", frozenset(_LEAD | _ASSESS)),
    RoleDef("mediator", "调解员", frozenset(_MEDIATOR)),
    RoleDef(
        "village_secretary", "村党组织书记",
        frozenset(_LEAD | _ISSUE | {P.UNIT_EDIT, P.GRANT_MANAGE, P.CASE_SUPERVISE, P.HOUSEHOLD_IMPORT,
                                    P.MEDIATION_UNMASK, P.DELIBERATION_MANAGE}),
    ),
    RoleDef("township_office", "乡镇网格办", frozenset(_OFFICE | {P.JOBS_VIEW})),
    RoleDef("county_office", "县网格办", frozenset(_OFFICE | {P.CATEGORY_MANAGE, P.JOBS_VIEW})),
    # The city office over its counties (at a prefecture unit): sees and supervises (督办), leaves the handling,
    # the ledger and personal data to the counties.
    RoleDef("city_office", "市网格办", frozenset({P.UNIT_VIEW, P.STAFF_VIEW, P.CASE_VIEW, P.CASE_SUPERVISE,
                                                 P.MEDIATION_VIEW, P.DELIBERATION_VIEW})),
    RoleDef("department_handler", "部门办理人", frozenset({P.CASE_DEPARTMENT})),
    RoleDef(
        "system_admin", "系统管理员",
        frozenset({P.UNIT_VIEW, P.UNIT_EDIT, P.STAFF_VIEW, P.GRANT_MANAGE, P.DEPARTMENT_MANAGE, P.USER_MANAGE,
                   P.JOBS_VIEW}),
        admin_duty=True,
    ),
    RoleDef("security_admin", "安全管理员", frozenset({P.POLICY_MANAGE}), admin_duty=True),
    RoleDef("audit_admin", "审计管理员", frozenset({P.AUDIT_VIEW}), admin_duty=True),
)

ROLE_BY_CODE = {r.code: r for r in ROLE_DEFS}
ALL_PERMISSIONS = frozenset(v for k, v in vars(P).items() if k.isupper())


def can_grant_role(held: frozenset[str], role_permissions: frozenset[str] | set[str] | list[str],
                   *, admin_duty: bool) -> bool:
    """May someone holding `held` at a unit grant a role with these permissions there?

    Nobody hands out more than they hold: a granter cannot make someone a county office or an
    auditor. Departments are the exception: whoever manages departments appoints their
    handlers. The three admin duties (三权分立) are appointed by the system itself, never
    through a grant form."""
    if admin_duty:
        return False
    needed = set(role_permissions)
    if P.DEPARTMENT_MANAGE in held:
        needed.discard(P.CASE_DEPARTMENT)
    return needed <= held

# Held only at a prefecture unit: a world or deployment rooted at its counties has no holder (no demo account).
CITY_ROLES = frozenset({"city_office"})
