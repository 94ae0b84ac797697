from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "gridgov.interfaces.staff"
    label = "interfaces_staff"

    def ready(self) -> None:
        # Connects the login receiver that starts the session clock.
        from gridgov.interfaces import session_policy  # noqa: F401
