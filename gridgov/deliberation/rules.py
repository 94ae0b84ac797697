"""The quorum and pass rules of a vote, as data, and the one function that computes a result.

A rule is a fraction and whether it must be exceeded ("more than half", 过半数) or only reached
("two thirds", 三分之二以上 as some villages write it for collective assets). The quorum is measured
against the eligible voters; the pass threshold against those attending (the usual rule of a
村民代表会议) or against all eligible voters (a stricter village charter).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from django.db import models


class Base(models.TextChoices):
    ATTENDING = "attending", "到会人数"
    ELIGIBLE = "eligible", "应到人数"


class Result(models.TextChoices):
    PASSED = "passed", "通过"
    REJECTED = "rejected", "未通过"
    NO_QUORUM = "no_quorum", "到会人数不足，表决无效"


@dataclass(frozen=True)
class Rule:
    numerator: int
    denominator: int
    strict: bool  # True: more than the fraction (过半数); False: at least the fraction

    def met(self, count: int, of: int) -> bool:
        if of <= 0:
            return False
        share = Fraction(count, of)
        bar = Fraction(self.numerator, self.denominator)
        return share > bar if self.strict else share >= bar

    def needed(self, of: int) -> int:
        """The smallest count that meets the rule out of `of` (for the vote sheet: "需 6 票")."""
        for n in range(of + 1):
            if self.met(n, of):
                return n
        return of + 1

    def describe(self, of: str = "") -> str:
        """In words: 超过应到人数的一半, 达到到会人数的 2/3."""
        frac = "一半" if (self.numerator, self.denominator) == (1, 2) else f" {self.numerator}/{self.denominator}"
        return f"{'超过' if self.strict else '达到'}{of}的{frac}"


@dataclass(frozen=True)
class Outcome:
    result: Result
    quorum_needed: int
    pass_needed: int

    @property
    def passed(self) -> bool:
        return self.result == Result.PASSED


def decide(*, eligible: int, attending: int, in_favour: int, quorum: Rule, pass_rule: Rule, base: str) -> Outcome:
    """The result of a vote. Without a quorum nothing passes, whatever the votes."""
    quorum_needed = quorum.needed(eligible)
    of = attending if base == Base.ATTENDING else eligible
    pass_needed = pass_rule.needed(of)
    if not quorum.met(attending, eligible):
        return Outcome(Result.NO_QUORUM, quorum_needed, pass_needed)
    if pass_rule.met(in_favour, of):
        return Outcome(Result.PASSED, quorum_needed, pass_needed)
    return Outcome(Result.REJECTED, quorum_needed, pass_needed)
