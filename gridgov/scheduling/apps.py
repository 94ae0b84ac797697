from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "gridgov.scheduling"
    label = "scheduling"
    verbose_name = "定时任务"
