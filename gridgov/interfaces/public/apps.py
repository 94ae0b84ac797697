from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "gridgov.interfaces.public"
    label = "interfaces_public"
