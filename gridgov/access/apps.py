from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "gridgov.access"
    label = "access"
    verbose_name = "人员与权限"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (login auditing)
