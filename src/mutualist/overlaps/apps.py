from django.apps import AppConfig


class OverlapsConfig(AppConfig):
    name = "mutualist.overlaps"
    label = "overlaps"
    verbose_name = "Account mapping"
    default_auto_field = "django.db.models.BigAutoField"
