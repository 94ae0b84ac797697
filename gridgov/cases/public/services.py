"""Write paths of the residents' side. Each runs in one transaction and goes through the case
loop's own services (`case_report`, `case_act`): residents report and act exactly like any channel."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Sequence

from django.core.files.base import ContentFile
from django.db import transaction

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_record
from gridgov.cases.intake import IntakeResult, case_report
from gridgov.cases.models import Case, CaseAttachment, CaseEvent, Channel
from gridgov.cases.selectors import case_get
from gridgov.cases.states import TERMINAL, Status
from gridgov.cases.transitions import case_act
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.notify.services import outbox_forget_recipients, outbox_put

from .models import Disclosure, FollowUp
from .photos import MAX_PHOTOS, clean_photo
from .selectors import PUBLIC_CATEGORIES, RATING_LEVELS, RESULT_ACTIONS, case_by_tracking_code

# A reporter (or staff on a follow-up visit) may say "not solved" this long after the result was given.
REOPEN_WINDOW_DAYS = 15
# A reporter's phone is erased this long after the case ends (told to the resident on the form).
PHONE_RETENTION_DAYS = 30
MAX_RESULT_PHOTOS = 6

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalize_phone(raw: str) -> str:
    phone = re.sub(r"[\s\u3000]", "", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not phone:
        return ""
    if not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        raise ValidationFailed("电话号码不正确，请填写 11 位手机号，或不填。", field="phone")
    return phone


@transaction.atomic
def public_report(
    *,
    now: dt.datetime,
    category_code: str,
    description: str,
    idempotency_key: str,
    photos: Sequence[bytes] = (),
    unit_id: int | None = None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    phone: str = "",
    anonymous: bool = False,
    tracking_link: Callable[[str], str] | None = None,
) -> IntakeResult:
    """A resident's report from the public page, through the same intake as every channel.
    A retry with the same key (bad signal, a second tap) returns the case the first one made."""
    if category_code not in PUBLIC_CATEGORIES:
        raise ValidationFailed("请选择是哪一类问题。", field="category")
    text = (description or "").strip()
    if not text:
        raise ValidationFailed("请说一说是什么问题（可以用语音输入）。", field="description")
    if len(text) > 2000:
        raise ValidationFailed("问题描述不能超过 2000 个字。", field="description")
    if not idempotency_key or not re.match(r"^[A-Za-z0-9_-]{16,64}$", idempotency_key):
        raise ValidationFailed("页面已过期，请刷新后重新提交。", field="idempotency_key")
    phone = normalize_phone(phone)
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(f"最多上传 {MAX_PHOTOS} 张照片。", field="photos")
    # Every photo is checked before anything is written: one bad photo and nothing is kept.
    cleaned = [clean_photo(p, label=f"第 {i} 张照片") for i, p in enumerate(photos, start=1)]
    if unit_id is None and lat is None and not address.strip():
        raise ValidationFailed("请告诉我们问题在哪里：点「用我现在的位置」，或填写地址。", field="location")
    first_line = text.splitlines()[0]
    title = f"{PUBLIC_CATEGORIES[category_code].split('、')[0]}：{first_line}"[:80]
    result = case_report(
        actor=None, now=now, title=title, description=text, category_code=category_code,
        channel=Channel.PUBLIC, lat=lat, lng=lng, unit_id=unit_id, address=address.strip(),
        reporter_phone=phone, anonymous=anonymous, idempotency_key=idempotency_key, key_namespace="public",
    )
    if not result.created:
        return result
    case = result.case
    event = CaseEvent.dangerously_unscoped.get(case=case, seq=1)
    for data in cleaned:
        CaseAttachment.dangerously_unscoped.create(
            case=case, event=event, file=ContentFile(data, name=f"{secrets.token_hex(12)}.jpg"),
            content_type="image/jpeg", size=len(data), original_name="", uploaded_by=None, uploaded_at=now,
        )
    if cleaned:
        audit_record(action="case.photo_add", actor=None, now=now, obj=case, unit_path=case.unit_path,
                     role="public", detail={"count": len(cleaned), "stage": "report"})
    if phone and tracking_link is not None:
        link = tracking_link(case.tracking_token)
        outbox_put(kind="sms", topic="case.tracking", dedupe_key=f"case:{case.pk}:tracking:sms", now=now,
                   payload={"channel": "sms", "to": [phone],
                            "text": f"您反映的问题已收到（{case.number}），查看办理进度：{link}"})
    return result


def _reporter_case(code: str) -> Case:
    case = case_by_tracking_code(code)
    if case is None:
        raise NotFound("查询码不正确，请核对后再试。")
    return case


def _check_can_answer(case: Case, now: dt.datetime) -> None:
    if case.rating is not None:
        raise Conflict("这件事已经评价过了，不能重复评价。谢谢您！")
    if case.status == Status.CLOSED:
        raise Conflict("这件事已经办结归档，不能再评价或重新办理。如果问题还在，请重新反映。")
    if case.status != Status.RESOLVED:
        raise Conflict("这件事还在办理中，办结后才能评价。")


def _check_reopen_window(case: Case, now: dt.datetime) -> None:
    if case.resolved_at is not None and now - case.resolved_at > dt.timedelta(days=REOPEN_WINDOW_DAYS):
        raise ValidationFailed(f"办结已超过 {REOPEN_WINDOW_DAYS} 天，不能再申请重新办理。如果问题还在，请重新反映。",
                               field="reason")


def _rating(level: str) -> int:
    if level not in RATING_LEVELS:
        raise ValidationFailed("请选择：满意、基本满意或不满意。", field="rating")
    return RATING_LEVELS[level][0]


@transaction.atomic
def reporter_rate(*, now: dt.datetime, code: str, level: str, comment: str = "") -> Case:
    """The reporter accepts the result and rates it (满意 / 基本满意 / 不满意)."""
    case = _reporter_case(code)
    stars = _rating(level)
    _check_can_answer(case, now)
    return case_act(actor=None, now=now, case_id=case.pk, action="confirm", reporter_token=code,
                    rating=stars, note=(comment or "").strip())


@transaction.atomic
def reporter_reopen(*, now: dt.datetime, code: str, reason: str) -> Case:
    """The reporter says the problem is not solved: the case goes back to its handler with the reason."""
    case = _reporter_case(code)
    _check_can_answer(case, now)
    _check_reopen_window(case, now)
    if not (reason or "").strip():
        raise ValidationFailed("请说一说哪里还没有解决。", field="reason")
    return case_act(actor=None, now=now, case_id=case.pk, action="reopen", reporter_token=code,
                    reason=reason.strip())


@transaction.atomic
def follow_up_record(*, actor: User, now: dt.datetime, case_id: int, method: str, outcome: str,
                     comment: str = "") -> FollowUp:
    """Staff record a follow-up visit or call (回访) for a resident without a phone: it accepts and
    rates the case, or reopens it, exactly as the resident would from the tracking page."""
    if method not in FollowUp.Method.values:
        raise ValidationFailed("请选择回访方式。", field="method")
    if outcome not in FollowUp.Outcome.values:
        raise ValidationFailed("请选择回访结果。", field="outcome")
    scope = scope_for(actor)
    case = case_get(scope=scope, case_id=case_id)
    # After the sweep archived an unrated case, the transition's guard decides (the policy window,
    # cases.states.FOLLOW_UP_AFTER_AUTO_CLOSE_DAYS); otherwise as the resident would answer.
    after_auto_close = case.status == Status.CLOSED and case.rating is None
    if not after_auto_close:
        _check_can_answer(case, now)
    comment = (comment or "").strip()
    if outcome == FollowUp.Outcome.NOT_SOLVED:
        if not after_auto_close:
            _check_reopen_window(case, now)
        if not comment:
            raise ValidationFailed("请记录群众说的还没有解决的地方。", field="comment")
        case = case_act(actor=actor, now=now, case_id=case.pk, action="reopen", reason=f"回访：{comment}")
    else:
        case = case_act(actor=actor, now=now, case_id=case.pk, action="confirm", rating=_rating(outcome),
                        note=comment[:200])
    event = CaseEvent.dangerously_unscoped.filter(case=case).order_by("-seq").first()
    assert event is not None
    follow = FollowUp.dangerously_unscoped.create(case=case, event=event, method=method, outcome=outcome,
                                      comment=comment[:500], by=actor, at=now)
    audit_record(action="case.follow_up", actor=actor, now=now, obj=case, unit_path=case.owner_path,
                 role=scope.role_at(case.owner_path), detail={"method": method, "outcome": outcome})
    return follow


@transaction.atomic
def case_disclose(*, actor: User | None, now: dt.datetime, case_id: int, public: bool) -> Disclosure:
    """An office marks a finished case public (or withdraws it) for the disclosure page."""
    scope = scope_for(actor)
    case = case_get(scope=scope, case_id=case_id)
    if not (scope.can(P.CASE_REVIEW, case.owner_path) or scope.can(P.CASE_REVIEW, case.unit_path)):
        raise PermissionDenied("只有网格办（审核人员）可以公开事件。")
    if public and case.status not in (Status.RESOLVED, Status.CLOSED):
        raise ValidationFailed("只有办结的事件才能公开。", field="public")
    row, _ = Disclosure.dangerously_unscoped.update_or_create(case=case, defaults={"is_public": public, "set_by": actor,
                                                                       "set_at": now})
    audit_record(action="case.disclose" if public else "case.undisclose", actor=actor, now=now, obj=case,
                 unit_path=case.owner_path, role=scope.role_at(case.owner_path), detail={"public": public})
    return row


@transaction.atomic
def result_photo_add(*, actor: User | None, now: dt.datetime, case_id: int, photo: bytes) -> CaseAttachment:
    """A handler adds a photo of the result; it is shown to the reporter and, if the case is made
    public, on the disclosure page. Re-encoded like residents' photos: no EXIF, no position."""
    scope = scope_for(actor)
    case = case_get(scope=scope, case_id=case_id)
    event = CaseEvent.dangerously_unscoped.filter(case=case, action__in=RESULT_ACTIONS).order_by("-seq").first()
    if event is None:
        raise ValidationFailed("请先填写办理结果，再上传结果照片。", field="photo")
    allowed = (
        (event.from_department_id is not None and event.from_department_id in scope.department_ids)
        or scope.can(P.CASE_HANDLE, case.owner_path)
    )
    if not allowed:
        raise PermissionDenied("只有办理人员可以上传结果照片。")
    if CaseAttachment.dangerously_unscoped.filter(case=case,
                                                  event__action__in=RESULT_ACTIONS).count() >= MAX_RESULT_PHOTOS:
        raise ValidationFailed(f"结果照片最多 {MAX_RESULT_PHOTOS} 张。", field="photo")
    data = clean_photo(photo)
    att = CaseAttachment.dangerously_unscoped.create(
        case=case, event=event, file=ContentFile(data, name=f"{secrets.token_hex(12)}.jpg"),
        content_type="image/jpeg", size=len(data), original_name="", uploaded_by=actor, uploaded_at=now,
    )
    audit_record(action="case.photo_add", actor=actor, now=now, obj=case, unit_path=case.owner_path,
                 role=scope.role_at(case.owner_path), detail={"stage": event.action})
    return att


@transaction.atomic
def reporter_phones_purge(*, now: dt.datetime) -> int:
    """Erase reporters' phones PHONE_RETENTION_DAYS after their case ended (the promise on the form).
    Idempotent: a second run finds nothing."""
    cutoff = now - dt.timedelta(days=PHONE_RETENTION_DAYS)
    ended = (Case.dangerously_unscoped.select_for_update().filter(status__in=[s.value for s in TERMINAL])
             .exclude(reporter_phone_cipher="").filter(updated_at__lt=cutoff))
    ids = list(ended.values_list("pk", flat=True))
    # The sealed numbers of SMS already sent or given up on go too (the outbox keeps no phone for ever).
    forgotten = outbox_forget_recipients(before=cutoff)
    if ids:
        Case.dangerously_unscoped.filter(pk__in=ids).update(reporter_phone_cipher="", reporter_phone_masked="")
    if ids or forgotten:
        audit_record(action="case.reporter_phone_purge", actor=None, now=now, role="system",
                     detail={"count": len(ids), "sms_rows": forgotten, "retention_days": PHONE_RETENTION_DAYS})
    return len(ids)
