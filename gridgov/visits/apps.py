from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "gridgov.visits"
    label = "visits"
    verbose_name = "走访"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the photo-file cleanup)
