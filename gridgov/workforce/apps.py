from django.apps import AppConfig


class WorkforceConfig(AppConfig):
    name = "gridgov.workforce"
    label = "workforce"
    verbose_name = "责任清单与考核"
