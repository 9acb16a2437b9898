from django.apps import AppConfig


class CosellConfig(AppConfig):
    name = "mutualist.cosell"
    label = "cosell"
    verbose_name = "Co-selling"
    default_auto_field = "django.db.models.BigAutoField"
