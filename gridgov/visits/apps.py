from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "gridgov.visits"
    label = "visits"
    verbose_name = "走访"
