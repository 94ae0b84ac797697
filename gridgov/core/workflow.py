"""The workflow engine: statuses with types and actions as data, and ONE locked transition.

A workflow (cases, mediation, deliberation, duty items, …) declares its statuses (each with a
status type: open, in progress, done or rejected) and its actions (from which statuses, to which,
which permission, which guards) as data, and supplies a `Workflow` subclass with the glue only
that workflow knows: how to lock its row, who may see it, whose permission an action needs where,
and how its history row, audit row and outbox rows are written (core imports no domain app, so
these are hooks). `act` runs every change in the same order, in one transaction:

    row lock (select_for_update) → visibility (404) → version check → state check → permission
    → guards → handler → new status, version + 1 → history row, audit row, outbox rows

`allowed` lists the actions an actor may take now (the same state check, permission and guards),
and docs/workflows/<name>.md is generated from the same data (`core/workflow_doc.py`).
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from django.db import models, transaction

from .errors import Conflict, DomainError, NotFound, ValidationFailed

T = TypeVar("T", bound=models.Model)


class StatusType(models.TextChoices):
    """What a status means across workflows: counted, coloured and filtered alike everywhere."""

    OPEN = "open", "待处理"
    IN_PROGRESS = "in_progress", "处理中"
    DONE = "done", "已完成"
    REJECTED = "rejected", "未受理/已撤销"


@dataclass(frozen=True)
class StatusSpec:
    """One status of a workflow and its status type (for the generated diagram and shared counts)."""

    code: str
    label: str
    type: StatusType


# A guard refuses an action on one object now, by raising a DomainError with a Chinese message
# (ValidationFailed with field="action", or Conflict); it returns None when the action may go on.
Guard = Callable[["Step[Any]"], None]


@dataclass(frozen=True)
class Guarded:
    """A status outside an action's `sources` from which the action is still allowed when `guard`
    passes (e.g. a follow-up call after the system archived a case). `label` names the condition in
    the generated diagram."""

    status: Any
    guard: Guard
    label: str


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    sources: frozenset[Any]
    # The statuses the action may lead to; empty: the status does not change. With several, the
    # handler picks one (`step.target`).
    targets: frozenset[Any] = frozenset()
    perm: str = ""
    hint: str = ""
    # Checked after the permission and before the handler, and by `allowed` (pages offer only what
    # would pass): each raises with its own Chinese message.
    guards: tuple[Guard, ...] = ()
    also_from: tuple[Guarded, ...] = ()
    # The refusal when the status does not allow the action; "" uses the workflow's message.
    refusal: str = ""

    def allowed_from(self, status: str) -> bool:
        return status in self.sources

    @property
    def target(self) -> Any:
        """The single target status, or None when the status does not change."""
        if not self.targets:
            return None
        assert len(self.targets) == 1, self.code
        return next(iter(self.targets))

    def target_from(self, status: str) -> str:
        target = self.target
        return str(target.value if hasattr(target, "value") else target) if target is not None else status


@dataclass
class Step(Generic[T]):
    """One action on one (locked) object, as the handler sees it: it validates its own parameters,
    changes `obj` in memory and fills `note` and `detail` for the history row."""

    obj: T
    action: Action
    actor: Any
    now: dt.datetime
    scope: Any = None
    role: str = ""
    before: str = ""
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    # With several targets, the one the handler chose.
    target: str = ""


class Workflow(Generic[T]):
    """The glue of one workflow. Subclasses set the class attributes and implement the hooks."""

    name: ClassVar[str]  # docs/workflows/<name>.md
    title: ClassVar[str]
    statuses: ClassVar[Sequence[StatusSpec]]
    actions: ClassVar[Mapping[str, Action]]
    handlers: ClassVar[Mapping[str, Callable[..., None]]]
    # The first history row, written by the workflow's own create service: (status, "code 名称").
    initial: ClassVar[tuple[str, str]]
    service: ClassVar[str]  # the dotted name of the transition service (for the diagram)
    status_attr: ClassVar[str] = "status"
    status_key: ClassVar[str] = "status"  # its key in a Conflict's details
    stale_message: ClassVar[str] = "已被他人处理，请刷新后再操作。"
    state_message: ClassVar[str] = "当前状态为「{status}」，不能{action}。"
    # Check the permission before the status (a workflow whose refusals say "not yours" first).
    authorize_first: ClassVar[bool] = False
    step_class: ClassVar[type[Step[Any]]] = Step
    note: ClassVar[str] = ""  # a paragraph for the diagram's page

    # --- hooks ---------------------------------------------------------------------------------

    def doc_status_columns(self) -> list[tuple[str, Callable[[StatusSpec], str]]]:
        """Extra columns of the generated diagram's status table (header, value)."""
        return []

    def doc_action_columns(self) -> list[tuple[str, Callable[[Action], str]]]:
        """Extra columns of the generated diagram's action table (header, value)."""
        return []

    def scope(self, actor: Any) -> Any:
        raise NotImplementedError

    def lock(self, pk: Any) -> T | None:
        """The row, locked for the transaction (select_for_update), or None."""
        raise NotImplementedError

    def visible(self, scope: Any, obj: T) -> bool:
        raise NotImplementedError

    def authorize(self, step: Step[T]) -> str:
        """Raise PermissionDenied (or NotFound), or return the actor's role for the history row."""
        raise NotImplementedError

    def record(self, step: Step[T]) -> None:
        """Save the object, and write its history row, audit row and outbox rows."""
        raise NotImplementedError

    def entered(self, step: Step[T]) -> None:
        """Called once the new status is set, before `record` (stage timestamps and the like)."""

    # --- the engine ------------------------------------------------------------------------------

    def params(self, action: str) -> frozenset[str]:
        cache = self.__class__.__dict__.get("_params")
        if cache is None:
            cache = {code: frozenset(list(inspect.signature(fn).parameters)[1:]) for code, fn in self.handlers.items()}
            type.__setattr__(self.__class__, "_params", cache)
        return cache[action]

    def status_of(self, obj: T) -> str:
        return str(getattr(obj, self.status_attr))

    def status_label(self, obj: T) -> str:
        return str(getattr(obj, f"get_{self.status_attr}_display")())

    def spec(self, action: str, params: Mapping[str, Any]) -> Action:
        spec = self.actions.get(action)
        if spec is None:
            raise ValidationFailed("未知的操作。", field="action")
        unknown = set(params) - self.params(action)
        if unknown:
            raise ValidationFailed(f"「{spec.label}」不接受这些参数：{'、'.join(sorted(unknown))}")
        return spec

    def check_state(self, step: Step[T]) -> None:
        obj, spec = step.obj, step.action
        status = self.status_of(obj)
        if spec.allowed_from(status):
            return
        details = {"current_version": getattr(obj, "version", None), self.status_key: status}
        for extra in spec.also_from:
            if extra.status == status:
                try:
                    extra.guard(step)
                except DomainError as exc:
                    raise Conflict(exc.message, details=details) from None
                return
        raise Conflict(self.refusal(step), details=details)

    def refusal(self, step: Step[T]) -> str:
        """The Chinese refusal when the status does not allow the action."""
        spec = step.action
        return spec.refusal or self.state_message.format(status=self.status_label(step.obj), action=spec.label)

    def apply(self, step: Step[T], params: Mapping[str, Any]) -> None:
        """Guards, the handler, the new status, the version: the object changed in memory, unsaved.
        The caller has locked the row, checked the status and authorised the actor."""
        spec, obj = step.action, step.obj
        step.before = self.status_of(obj)
        for guard in spec.guards:
            guard(step)
        self.handlers[spec.code](step, **params)
        if spec.targets:
            target = step.target or spec.target_from(step.before)
            assert target in {str(getattr(t, "value", t)) for t in spec.targets}, (spec.code, target)
            setattr(obj, self.status_attr, target)
        if hasattr(obj, "version"):
            obj.version += 1  # type: ignore[attr-defined]
        if hasattr(obj, "updated_at"):
            obj.updated_at = step.now  # type: ignore[attr-defined]
        self.entered(step)

    def act(self, *, actor: Any, now: dt.datetime, pk: Any, action: str, expected_version: Any = None,
            params: Mapping[str, Any], step_fields: Mapping[str, Any] | None = None) -> T:
        """The one locked transition. Of two people acting at once, one wins and the other gets a
        Conflict naming the status the first one left; a refusal writes nothing."""
        with transaction.atomic(savepoint=False):  # the caller's transaction, when there is one
            spec = self.spec(action, params)
            obj = self.lock(pk)
            if obj is None:
                raise NotFound()
            scope = self.scope(actor) if actor is not None else None
            if scope is not None and not self.visible(scope, obj):
                raise NotFound()
            version = getattr(obj, "version", None)
            if expected_version is not None and int(expected_version) != version:
                raise Conflict(self.stale_message, details={"current_version": version,
                                                            self.status_key: self.status_of(obj)})
            step = self.step_class(obj=obj, action=spec, actor=actor, now=now, scope=scope, **(step_fields or {}))
            if self.authorize_first:
                step.role = self.authorize(step)
                self.check_state(step)
            else:
                self.check_state(step)
                step.role = self.authorize(step)
            self.apply(step, params)
            self.record(step)
            return obj

    def take(self, obj: T, *, actor: Any, now: dt.datetime, action: str, role: str,
             params: Mapping[str, Any] | None = None) -> T:
        """An action on a row the caller has already locked and checked (a system job's batch, or
        a parent's change that carries its children): guards, handler, rows; no second lock."""
        step = self.step_class(obj=obj, action=self.spec(action, params or {}), actor=actor, now=now, role=role)
        self.apply(step, params or {})
        self.record(step)
        return obj

    def allowed(self, obj: T, *, actor: Any, now: dt.datetime | None = None,
                step_fields: Mapping[str, Any] | None = None) -> list[Action]:
        """The actions this actor may take on this object now: status, permission and guards."""
        scope = self.scope(actor) if actor is not None else None
        status = self.status_of(obj)
        when = now if now is not None else getattr(obj, "updated_at", None)
        out = []
        for spec in self.actions.values():
            extra = [g for g in spec.also_from if g.status == status]
            if not spec.allowed_from(status) and not extra:
                continue
            step = self.step_class(obj=obj, action=spec, actor=actor, now=when, scope=scope,  # type: ignore[arg-type]
                                   **(step_fields or {}))
            try:
                step.role = self.authorize(step)
                for g in extra:
                    g.guard(step)
                for guard in spec.guards:
                    if now is None and getattr(guard, "needs_now", False):
                        continue
                    guard(step)
            except DomainError:
                continue
            out.append(spec)
        return out


def needs_now(guard: Guard) -> Guard:
    """Mark a guard that reads the clock (`step.now`): `allowed` skips it when no `now` is given."""
    guard.needs_now = True  # type: ignore[attr-defined]
    return guard
