"""CSV/XLSX import and export of billers and their settings, for bulk onboarding.

A file with any bad row saves nothing: the import runs in one transaction and each error names its row.
"""
from __future__ import annotations

from typing import Any

from import_export import fields, resources, widgets

from billers.fields import MASK, mask
from billers.models import Biller, BillerSetting, Partner, SettingDefinition


class ListWidget(widgets.Widget):
    """A JSON list of names kept in one cell as ``a; b; c``."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[str]:
        return [v.strip() for v in str(value or "").split(";") if v.strip()]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "; ".join(value or [])


class AllOrNothingResource(resources.ModelResource):
    """An import with any invalid row saves nothing."""

    def import_data(self, dataset: Any, dry_run: bool = False, raise_errors: bool = False, **kwargs: Any) -> Any:
        kwargs.setdefault("rollback_on_validation_errors", True)
        kwargs.setdefault("use_transactions", True)
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, **kwargs)


class BillerResource(AllOrNothingResource):
    partner = fields.Field(
        attribute="partner", column_name="partner", widget=widgets.ForeignKeyWidget(Partner, "code")
    )
    products = fields.Field(attribute="products", column_name="products", widget=ListWidget())
    features = fields.Field(attribute="features", column_name="features", widget=ListWidget())

    class Meta:
        model = Biller
        import_id_fields = ("bid",)
        fields = (
            "bid",
            "name",
            "guid",
            "partner",
            "time_zone",
            "batch_close_time",
            "status",
            "products",
            "features",
            "record_error_policy",
            "post_scheduled_payments",
            "group_autopay_by_custom10",
            "pump_ach_rejects",
        )
        export_order = fields
        clean_model_instances = True
        use_transactions = True
        skip_unchanged = True


class BillerSettingResource(AllOrNothingResource):
    """Secrets export masked; a masked cell on import keeps the stored secret."""

    biller = fields.Field(attribute="biller", column_name="bid", widget=widgets.ForeignKeyWidget(Biller, "bid"))
    definition = fields.Field(
        attribute="definition", column_name="number", widget=widgets.ForeignKeyWidget(SettingDefinition, "number")
    )
    value = fields.Field(column_name="value")

    class Meta:
        model = BillerSetting
        import_id_fields = ("biller", "definition")
        fields = ("biller", "definition", "value")
        clean_model_instances = True
        use_transactions = True

    def dehydrate_value(self, setting: BillerSetting) -> str:
        return mask(setting.secret_value) if setting.definition.is_secret else setting.value

    def import_field(self, field: fields.Field, instance: BillerSetting, row: Any, is_m2m: bool = False, **kw: Any) -> None:
        if field.column_name != "value":
            return super().import_field(field, instance, row, is_m2m, **kw)
        raw = str(row.get("value") or "").strip()
        definition = instance.definition if instance.definition_id else None
        if definition is not None and definition.is_secret:
            if raw != MASK:
                instance.value, instance.secret_value = "", raw
        else:
            instance.value, instance.secret_value = raw, ""
        return None
