from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "mutualist.onboarding"
    label = "onboarding"
    verbose_name = "Onboarding journeys"
    default_auto_field = "django.db.models.BigAutoField"
