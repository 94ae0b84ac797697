from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "gridgov.interfaces.staff"
    label = "interfaces_staff"

    def ready(self) -> None:
        # Connects the login receiver that starts the session clock.
        # Registers the deploy check that fails while the bench-only URLs are on.
        from gridgov.interfaces import (
            bench_endpoints,  # noqa: F401
            session_policy,  # noqa: F401
        )
