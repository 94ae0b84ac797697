"""Fail-closed querysets for scoped models.

A scoped model's `objects` manager refuses to run a query until it has been narrowed
by an actor's scope (`.within(scope)`). The scope itself is built in
`gridgov.access.scope`; this module only knows that a scope can turn a model into a
filter. Code that legitimately acts without an actor (jobs, migrations, the world
generator, services working on an object already fetched through a scope) uses the
model's `dangerously_unscoped` manager, which stands out in review and is fenced off from the
interfaces by an architecture test.
"""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeVar

from django.db import models

# The name of a scoped model's bypass manager (kept in one place: tests/architecture counts its uses).
BYPASS_MANAGER = "dangerously_unscoped"


class ScopeMissing(RuntimeError):
    """A scoped model was queried without an actor's scope."""


class ScopeLike(Protocol):
    def filter_for(self, model: type[models.Model]) -> models.Q: ...


_M = TypeVar("_M", bound=models.Model)


class ScopedQuerySet(models.QuerySet[_M]):
    _gridgov_scoped = False

    def within(self, scope: ScopeLike) -> Self:
        clone = self.filter(scope.filter_for(self.model))
        clone._gridgov_scoped = True
        return clone

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone._gridgov_scoped = self._gridgov_scoped
        return clone

    def _require_scope(self) -> None:
        if not self._gridgov_scoped:
            raise ScopeMissing(
                f"{self.model._meta.label} is scoped: use .within(scope) or the `dangerously_unscoped` manager"
            )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def count(self) -> int:
        self._require_scope()
        return super().count()

    def exists(self) -> bool:
        self._require_scope()
        return super().exists()

    def iterator(self, chunk_size: int | None = None) -> Any:
        self._require_scope()
        return super().iterator(chunk_size=chunk_size)

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._require_scope()
        return super().update(**kwargs)

    def delete(self) -> Any:
        self._require_scope()
        return super().delete()


class ScopedManager(models.Manager[_M]):
    """`Model.objects`: every query must go through `.within(scope)`."""

    def get_queryset(self) -> ScopedQuerySet[_M]:
        return ScopedQuerySet(self.model, using=self._db)

    def within(self, scope: ScopeLike) -> ScopedQuerySet[_M]:
        return self.get_queryset().within(scope)
