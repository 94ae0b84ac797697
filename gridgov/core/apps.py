from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gridgov.core"
    label = "core"

    def ready(self) -> None:
        from gridgov.core.checks import register_deploy_checks

        register_deploy_checks()
