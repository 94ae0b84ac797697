from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gridgov.core"
    label = "core"

    def ready(self) -> None:
        # Pillow's decompression-bomb limit for the whole program (set in core.untrusted).
        from gridgov.core import untrusted  # noqa: F401
        from gridgov.core.checks import register_deploy_checks

        register_deploy_checks()
