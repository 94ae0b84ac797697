from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "gridgov.residents"
    label = "residents"
    verbose_name = "户情台账"
