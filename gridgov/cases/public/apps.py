from django.apps import AppConfig


class CasesPublicConfig(AppConfig):
    """The residents' side of the case loop: disclosure flags, follow-up visits, public photos."""

    name = "gridgov.cases.public"
    label = "cases_public"
    verbose_name = "事件公开与回访"
