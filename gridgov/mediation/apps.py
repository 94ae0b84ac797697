from django.apps import AppConfig


class MediationConfig(AppConfig):
    name = "gridgov.mediation"
    label = "mediation"
    verbose_name = "矛盾纠纷调解"
