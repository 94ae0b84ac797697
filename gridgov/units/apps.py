from django.apps import AppConfig


class UnitsConfig(AppConfig):
    name = "gridgov.units"
    label = "units"
    verbose_name = "网格体系"
