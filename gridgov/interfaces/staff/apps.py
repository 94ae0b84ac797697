from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "gridgov.interfaces.staff"
    label = "interfaces_staff"
