from django.apps import AppConfig


class TiersConfig(AppConfig):
    name = "mutualist.tiers"
    label = "tiers"
    verbose_name = "Tier governance"
    default_auto_field = "django.db.models.BigAutoField"
