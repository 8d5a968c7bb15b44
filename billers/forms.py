"""Admin forms: settings validated by kind, secrets write-only, product and feature pickers."""
from __future__ import annotations

from typing import Any

from django import forms

from billers.fields import MASK
from billers.models import Biller, BillerSetting
from partners import base as pb
from partners import registry


def catalogue_names(category: str) -> list[tuple[str, str]]:
    """Every product or feature name any partner lists, as form choices."""
    names = sorted({s.name for caps in registry.CAPABILITIES.values() for s in caps.supports if s.category == category})
    return [(n, n) for n in names]


class BillerForm(forms.ModelForm):
    products = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    features = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Biller
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["products"].choices = catalogue_names(pb.PRODUCT)
        self.fields["features"].choices = catalogue_names(pb.FEATURE)


class BillerSettingForm(forms.ModelForm):
    """One input for every kind; a secret is never rendered back, blank keeps the stored one."""

    entered = forms.CharField(label="Value", required=False, widget=forms.TextInput(attrs={"size": 60}))

    class Meta:
        model = BillerSetting
        fields = ["definition"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk and instance.definition.is_secret:
            self.fields["entered"].widget = forms.PasswordInput(
                render_value=False, attrs={"placeholder": MASK if instance.secret_value else "", "size": 60}
            )
            self.fields["entered"].help_text = "Stored encrypted. Leave blank to keep it."
        elif instance.pk:
            self.fields["entered"].initial = instance.value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        definition = data.get("definition")
        if definition is not None and definition.is_secret and not (data.get("entered") or "").strip():
            if self.instance.pk and self.instance.secret_value:
                data["entered"] = None  # keep the stored secret
        return data

    def _post_clean(self) -> None:
        """Put the entered value on the instance so the model's kind validation checks it."""
        definition = self.cleaned_data.get("definition")
        entered = self.cleaned_data.get("entered")
        if definition is not None and entered is not None:
            if definition.is_secret:
                self.instance.value, self.instance.secret_value = "", entered
            else:
                self.instance.value, self.instance.secret_value = entered, ""
        super()._post_clean()
