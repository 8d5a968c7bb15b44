"""Writes to billers and their settings; every write validates first (HackSoft-style services)."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from billers.models import Biller, BillerSetting, SettingDefinition
from billers.validation import clean_setting_value


def setting_definition(number: int) -> SettingDefinition:
    """Return the definition of an advanced setting number; ValidationError if unknown."""
    try:
        return SettingDefinition.objects.get(number=number)
    except SettingDefinition.DoesNotExist:
        raise ValidationError(f"Setting {number} is not a known advanced setting number.") from None


@transaction.atomic
def biller_setting_set(*, biller: Biller, number: int, value: str) -> BillerSetting:
    """Validate ``value`` by the setting's kind and store it (encrypted when secret)."""
    definition = setting_definition(number)
    clean = clean_setting_value(definition, value)
    setting, _ = BillerSetting.objects.get_or_create(biller=biller, definition=definition)
    if definition.is_secret:
        setting.value, setting.secret_value = "", clean
    else:
        setting.value, setting.secret_value = clean, ""
    setting.save()
    return setting


@transaction.atomic
def biller_setting_delete(*, biller: Biller, number: int) -> bool:
    """Remove a setting; return whether one existed."""
    deleted, _ = BillerSetting.objects.filter(biller=biller, definition__number=number).delete()
    return bool(deleted)
