from django.apps import AppConfig


class DeliberationConfig(AppConfig):
    name = "gridgov.deliberation"
    label = "deliberation"
    verbose_name = "群众议事"
