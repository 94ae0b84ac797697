"""World step (seed_world): notices in the demo township, through the notices services, so every path shows
with data: an urgent notice before a cold wave to one village, reached household by household and closed
(replies 收到 and 有困难 among them); an ordinary township-wide notice under way (partly reached); a 特急
notice waiting for the county's approval."""

from __future__ import annotations

import datetime as dt
import random
from typing import TextIO

from gridgov.access.models import Grant, User
from gridgov.units.models import Unit

from . import services
from .models import Delivery, Grade, Notice, Reply

WORKER_ROLES = ("grid_worker_full", "grid_worker_part", "grid_head")
# Share of a village's households reached for the notice under way, and how (seed 004: the grid's WeChat
# group first, then a call, then the door for those without a phone).
HOW_WEIGHTS = ((Delivery.How.GROUP, 5), (Delivery.How.PHONE, 3), (Delivery.How.DOOR, 2))


def _office(unit: Unit, role: str) -> User | None:
    grant = (Grant.dangerously_unscoped.filter(unit=unit, role__code=role,
                                               revoked_at__isnull=True).select_related("user")
             .order_by("pk").first())
    return grant.user if grant is not None else None


def _markers(township: Unit) -> dict[int, User]:
    """The grid worker (else the grid head) who marks each grid's households."""
    found: dict[int, User] = {}
    grants = (Grant.dangerously_unscoped.filter(unit__path__startswith=township.path, role__code__in=WORKER_ROLES,
                                    revoked_at__isnull=True).select_related("user").order_by("role__code", "pk"))
    for g in grants:
        found.setdefault(g.unit_id, g.user)
    return found


def _mark(notice: Notice, *, share: float, markers: dict[int, User], fallback: User, start: dt.datetime,
          rng: random.Random) -> int:
    pending = list(Delivery.dangerously_unscoped.filter(notice=notice, state=Delivery.State.PENDING).order_by("pk"))
    hows = [h for h, w in HOW_WEIGHTS for _ in range(w)]
    marked = 0
    for i, d in enumerate(pending):
        if rng.random() >= share:
            continue
        at = start + dt.timedelta(minutes=5 + i * 2)
        if i % 41 == 7:
            services.delivery_mark(actor=markers.get(d.unit_id, fallback), now=at, delivery_id=d.pk,
                                   how="unreachable", reason="外出务工，电话停机")
        elif i % 9 == 3:
            services.public_reply(now=at, token=d.token, kind=Reply.Kind.RECEIVED)
        else:
            services.delivery_mark(actor=markers.get(d.unit_id, fallback), now=at, delivery_id=d.pk,
                                   how=rng.choice(hows))
        marked += 1
    return marked


def seed_world_step(*, seed: int, now: dt.datetime, root: Unit, stdout: TextIO | None = None) -> None:
    if Notice.dangerously_unscoped.filter(unit_path__startswith=root.path).exists():
        return
    rng = random.Random(seed * 7919 + 17)
    townships = list(Unit.dangerously_unscoped.filter(path__startswith=root.path, kind__base__in=["township",
                                                                                                  "subdistrict"],
                                          is_active=True).order_by("path"))
    county = Unit.dangerously_unscoped.filter(path__startswith=root.path, kind__base="county").order_by("depth").first()
    made = 0
    for township in townships[:1]:
        office = _office(township, "township_office")
        villages = list(Unit.dangerously_unscoped.filter(parent=township, is_active=True).order_by("path"))
        if office is None or not villages:
            continue
        markers = _markers(township)
        # 1. 紧急, one village, four days ago: every household reached within the day, two replies of
        #    有困难 (one turned into a case by the office is left for a person to do), closed.
        start = now - dt.timedelta(days=4, hours=3)
        cold = services.notice_create(
            actor=office, now=start, unit_id=township.pk, title="寒潮降温防范通知", grade=Grade.URGENT,
            text="受强冷空气影响，未来三天最低气温降至零下8℃。请各户检查取暖设施，注意用火用电安全，"
                 "独居老人、留守儿童家庭请网格员逐户上门提醒。有困难请回复或联系网格员。",
            unit_ids=[villages[0].pk], reply_asked=True)
        services.notice_send(actor=office, now=start + dt.timedelta(minutes=2), notice_id=cold.pk)
        pending = list(Delivery.dangerously_unscoped.filter(notice=cold).order_by("pk")[:2])
        for d, text in zip(pending, ("家里煤不够烧三天，老人一个人在家。", "取暖炉坏了，想请人帮忙看看。"),
                           strict=False):
            services.public_reply(now=start + dt.timedelta(minutes=20), token=d.token, kind=Reply.Kind.DIFFICULTY,
                                  text=text)
        _mark(cold, share=1.0, markers=markers, fallback=office, start=start + dt.timedelta(minutes=30), rng=rng)
        services.notice_close(actor=office, now=start + dt.timedelta(days=1), notice_id=cold.pk)
        made += 1
        # 2. 一般, the whole township, yesterday: under way, a little over half reached so far.
        start = now - dt.timedelta(days=1, hours=2)
        insurance = services.notice_create(
            actor=office, now=start, unit_id=township.pk, title="2027年度城乡居民医保缴费提醒", grade=Grade.NORMAL,
            text="2027年度城乡居民基本医疗保险集中缴费截至12月31日。可通过微信、银行网点或到村便民服务站缴纳，"
                 "低保、特困等人员由政府资助参保，请各户核对。",
            unit_ids=[township.pk])
        services.notice_send(actor=office, now=start + dt.timedelta(minutes=5), notice_id=insurance.pk)
        _mark(insurance, share=0.55, markers=markers, fallback=office, start=start + dt.timedelta(minutes=30),
              rng=rng)
        made += 1
        # 3. 特急 to the whole township: sent by the office an hour ago, waiting for the county's approval.
        if county is not None:
            storm = services.notice_create(
                actor=office, now=now - dt.timedelta(hours=1), unit_id=township.pk, title="暴雪橙色预警紧急通知",
                grade=Grade.CRITICAL, unit_ids=[township.pk], reply_asked=True,
                text="气象台发布暴雪橙色预警。今晚起请勿上山、勿在危房内居住，转移安置点设在乡中心小学。")
            services.notice_send(actor=office, now=now - dt.timedelta(minutes=55), notice_id=storm.pk)
            made += 1
    if stdout is not None:
        deliveries = Delivery.dangerously_unscoped.filter(notice__unit_path__startswith=root.path).count()
        stdout.write(f"notices: {made} notices, {deliveries} deliveries\n")
