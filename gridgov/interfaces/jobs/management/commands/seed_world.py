"""manage.py seed_world: build a demo world (hierarchy, staff, then whatever later steps add).

    manage.py seed_world --preset wucheng --seed 1 --if-empty
    manage.py seed_world --size M --seed 7

On PostgreSQL the steps that bulk-load big tables (a step module's `BULK_MODELS`: ledger, cases,
visits) load them, when they are empty, without their secondary indexes, unique constraints and
foreign keys, and rebuild those after the step from the definitions captured before
(gridgov.core.bulkload.without_indexes; the rebuild checks they are identical). A run that fails or
is killed midway can leave tables without indexes or foreign keys: drop that database and generate
again. A database that holds data is refused (units) or left as it is (any row in those tables).
"""

from __future__ import annotations

import importlib
import io
import multiprocessing
import random
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections, transaction
from faker import Faker

from gridgov.access.world import persist_staff, plan_staff
from gridgov.audit.services import audit_record
from gridgov.core import clock
from gridgov.core.bulkload import without_indexes
from gridgov.units import locate
from gridgov.units import selectors as unit_selectors
from gridgov.units.world import PRESETS, SIZES, WorldPlan, persist_units, plan_preset, plan_size

# Each app adds its generator here: `seed_world_step(*, seed, now, root, stdout)`. A step that does not
# import, or names nothing, stops the run with its name (it used to be skipped without a word).
STEPS = (
    "gridgov.residents.world.seed_world_step",
    "gridgov.cases.world.seed_world_step",
    "gridgov.deliberation.world.seed_world_step",
    "gridgov.workforce.world.seed_rules_step",
    "gridgov.processes.points_feed.seed_world_step",
    "gridgov.workforce.world.seed_world_step",
    "gridgov.visits.world.seed_world_step",
    "gridgov.mediation.world.seed_world_step",
    "gridgov.notices.world.seed_world_step",
    "gridgov.processes.world.seed_world_step",
)


def _step(dotted: str) -> Any:
    """The function a step names; a CommandError naming the step when its module does not import or
    does not define it."""
    module, _, name = dotted.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise CommandError(f"演示数据步骤 {dotted} 无法加载：{exc}") from exc
    except AttributeError as exc:
        raise CommandError(f"演示数据步骤 {dotted} 不存在：{module} 中没有 {name}。") from exc
    if not callable(found):
        raise CommandError(f"演示数据步骤 {dotted} 不是函数。")
    return found


def _optional(dotted: str) -> Any:
    """What a step's module may define for the loader (BULK_MODELS, prepare_parallel), or None."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name, None)


class Command(BaseCommand):
    help = ("生成演示数据：网格层级、人员、授权、职能部门（--preset 参考系统，或 --size S/M/L 规模）。"
            "只在空数据库上生成。PostgreSQL 上，户情、事件、走访等大表在空表时先去掉二级索引、唯一约束和外键，"
            "装载后按原定义重建；生成中途失败或被中断时，数据库可能缺少索引或外键，请删除该数据库后重新生成。")

    def add_arguments(self, parser: CommandParser) -> None:
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--preset", choices=PRESETS, help="五个参考系统之一")
        what.add_argument("--size", choices=SIZES, help="S 一个乡镇；M 一个县；L 八个县")
        parser.add_argument("--seed", type=int, default=1, help="随机种子：同一种子生成同一世界")
        parser.add_argument("--if-empty", action="store_true", help="已有单位时什么也不做（make demo 重启用）")
        parser.add_argument("--units-only", action="store_true",
                            help="只生成网格体系和人员，不生成户情、事件等（基准测试和网格体系测试用）")
        parser.add_argument("--jobs", type=int, default=1,
                            help="多个县（L 规模）时并行生成的进程数（仅 PostgreSQL；生成的数据与单进程相同）")

    def handle(self, *args: Any, **options: Any) -> None:
        seed: int = options["seed"]
        if options["jobs"] > 1 and connection.vendor != "postgresql":
            raise CommandError("--jobs 只用于 PostgreSQL（SQLite 只有一个写入者）。")
        if unit_selectors.hierarchy_exists():
            if options["if_empty"]:
                self.stdout.write("数据库中已有单位，跳过生成。")
                return
            raise CommandError("数据库中已有单位：请在空数据库上生成，或加 --if-empty 跳过。")
        # Every step is found before anything is written: a broken one stops the run with its name.
        steps = {} if options["units_only"] else {dotted: _step(dotted) for dotted in STEPS}
        started = time.perf_counter()
        now = clock.now()
        rng = random.Random(seed)
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        plan: WorldPlan = plan_preset(options["preset"], rng) if options["preset"] else plan_size(options["size"], rng)
        staff = plan_staff(plan, rng, fake)
        with transaction.atomic():
            units = persist_units(plan, now=now)
            persist_staff(staff, units, now=now)
            roots = [units[n.key] for n in plan.roots()]
            audit_record(action="world.seed", actor=None, now=now, role="system", unit_path=roots[0].path,
                         detail={"plan": plan.label, "seed": seed, "units": len(units),
                                 "people": len(staff.people), "grants": len(staff.grants)})
        locate.invalidate()
        kinds = Counter(n.kind for n in plan.nodes)
        households = sum(n.household_estimate or 0 for n in plan.leaves())
        self.stdout.write(
            f"已生成「{plan.label}」（种子 {seed}）：单位 {len(units)} 个（"
            + "、".join(f"{k} {v}" for k, v in sorted(kinds.items()))
            + f"），人员 {len(staff.people)} 人，授权 {len(staff.grants)} 条，职能部门 {len(staff.departments)} 个，"
            f"估计户数 {households}；用时 {time.perf_counter() - started:.1f} 秒。"
        )
        jobs = max(1, min(options["jobs"], len(roots)))
        for dotted, step in steps.items():
            step_started, cpu_started = time.perf_counter(), time.process_time()
            children_started = _children_cpu()
            deferred = without_indexes(_optional(dotted.rpartition(".")[0] + ".BULK_MODELS") or ())
            try:
                with deferred:
                    if jobs == 1:
                        for root in roots:
                            step(seed=seed, now=now, root=root, stdout=self.stdout)
                    else:
                        _prepare = _optional(dotted.rpartition(".")[0] + ".prepare_parallel")
                        if _prepare is not None:
                            _prepare()
                        _in_parallel(dotted, roots, seed=seed, now=now, jobs=jobs, stdout=self.stdout)
                    loaded = time.perf_counter()
            except BaseException:
                if deferred.deferred:
                    self.stderr.write(f"{dotted} 中断：{len(deferred.deferred)} 个索引和约束未重建"
                                      f"（{', '.join(deferred.tables)}）。请删除该数据库后重新生成。")
                raise
            if deferred.deferred:
                self.stdout.write(f"{dotted}：装载 {loaded - step_started:.1f} 秒（无二级索引和外键），"
                                  f"重建 {len(deferred.deferred)} 个索引和约束 {deferred.rebuild_seconds:.1f} 秒。")
            # CPU seconds of this process and of its finished worker processes (--jobs): on a shared, loaded
            # machine the wall time mostly measures the wait for a core and for the database.
            cpu = (f"（本进程 CPU {time.process_time() - cpu_started:.1f} 秒，"
                   f"子进程 CPU {_children_cpu() - children_started:.1f} 秒）")
            if connection.vendor == "postgresql":
                # Planner statistics for what the step wrote, before the next step reads it: a step planned
                # against tables the planner thinks empty (a bulk load in one transaction) ran for minutes at size S.
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            self.stdout.write(f"{dotted}：用时 {time.perf_counter() - step_started:.1f} 秒{cpu}。")
        if connection.vendor == "postgresql":
            # Fresh planner statistics: right after a bulk load the tables look empty to the planner,
            # and a dashboard query planned that way ran for minutes at size L.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished (waited-for) child processes."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_one(dotted: str, root: Any, seed: int, now: Any) -> str:
    """One root's step in a worker process (forked: it opens its own database connection)."""
    out = io.StringIO()
    _step(dotted)(seed=seed, now=now, root=root, stdout=out)
    connections.close_all()
    for conn in connections.all():
        if hasattr(conn, "close_pool"):
            conn.close_pool()
    return out.getvalue()


def _in_parallel(dotted: str, roots: list[Any], *, seed: int, now: Any, jobs: int, stdout: Any) -> None:
    """Each root's step is seeded by the seed and the root alone, so running roots side by side
    writes the same rows as running them one after another."""
    # No connection, pooled or not, may cross the fork: each worker opens its own.
    connections.close_all()
    for conn in connections.all():
        if hasattr(conn, "close_pool"):
            conn.close_pool()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        for text in pool.map(_run_one, [dotted] * len(roots), roots, [seed] * len(roots), [now] * len(roots)):
            stdout.write(text)
