from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "gridgov.notices"
    label = "notices"
    verbose_name = "通知传达"
