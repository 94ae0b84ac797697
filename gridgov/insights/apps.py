from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "gridgov.insights"
    label = "insights"
    verbose_name = "统计分析"
