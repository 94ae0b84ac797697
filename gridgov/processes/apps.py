from django.apps import AppConfig


class ProcessesConfig(AppConfig):
    name = "gridgov.processes"
    label = "processes"
    verbose_name = "跨流程衔接"
