from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "gridgov.interfaces.api"
    label = "interfaces_api"
