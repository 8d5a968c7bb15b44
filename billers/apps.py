from django.apps import AppConfig


class BillersConfig(AppConfig):
    name = "billers"
    default_auto_field = "django.db.models.BigAutoField"
