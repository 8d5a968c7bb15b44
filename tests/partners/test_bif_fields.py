from partners import bif_fields


def test_field_names_are_unique_per_row_type():
    keys = [(f.row_type, f.name) for f in bif_fields.FIELDS]
    assert len(keys) == len(set(keys))


def test_all_custom_and_custom_fields_are_catalogued():
    layout = bif_fields.layout()
    assert {f"Custom{n}" for n in range(1, 61)} <= set(layout["IH"])
    assert {f"CustomField{n}" for n in range(1, 85)} <= set(layout["ID"])


def test_columns_start_with_row_type_and_follow_file_spec_ids():
    for row_type, names in bif_fields.layout().items():
        assert names[0] == "RowType"
        ids = [next(f.file_spec_id for f in bif_fields.FIELDS if f.row_type == row_type and f.name == n) for n in names[1:]]
        assert ids == sorted(ids)
