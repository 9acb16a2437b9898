from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "mutualist.agreements"
    label = "agreements"
    verbose_name = "Partner agreements"
    default_auto_field = "django.db.models.BigAutoField"
