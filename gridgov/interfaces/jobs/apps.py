from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "gridgov.interfaces.jobs"
    label = "interfaces_jobs"
