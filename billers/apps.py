from django.apps import AppConfig


class BillersConfig(AppConfig):
    name = "billers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from billers.models import BillerSetting
        from billers.selectors import settings_forget

        def forget(sender: type, instance: BillerSetting, **kwargs: object) -> None:
            settings_forget(instance.biller_id)

        post_save.connect(forget, sender=BillerSetting, dispatch_uid="billers.settings_forget.save")
        post_delete.connect(forget, sender=BillerSetting, dispatch_uid="billers.settings_forget.delete")
