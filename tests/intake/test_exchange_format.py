"""The exchange format is one file read by one loader; adding a column there is one edit.

The second test copies the shipped file, adds a column to the copy (nothing else changes), and starts a fresh
interpreter on it (`DRAGONNET_EXCHANGE_FORMAT`): the header mapping, the normalisation limits, the form's
fields, the API schema, the templates and the case export all have the new column.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dragonnet.datafiles import load_yaml
from dragonnet.domain import exchange
from dragonnet.errors import ValidationError
from dragonnet.intake import forms, headers, normalise, templates
from dragonnet.reporting import exports

PACKAGING_COLUMN = {
    "name": "packaging",
    "level": "item",
    "type": "text",
    "max_length": 100,
    "headers": {"en": ["packaging"], "fr": ["emballage"]},
}
ALIAS_COLUMN = {"name": "alias", "level": "party", "type": "text", "max_length": 200, "headers": {"en": ["aka"]}}
SEAL_COLUMN = {
    "name": "seal_number",
    "level": "case",
    "type": "text",
    "max_length": 40,
    "description": "the customs seal on the container",
    "headers": {"en": ["seal number", "seal no"], "fr": ["numéro de scellé"], "vi": ["số niêm phong"]},
}

PROBE = r"""
import json
import sys
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session
from dragonnet.api.cases import CaseCreate
from dragonnet.intake import forms, headers, normalise, templates
from dragonnet.reporting import exports

case_create = CaseCreate.model_json_schema()["properties"]  # what /api/docs shows for POST /cases


def stored():
    # Import a file with the new columns, report a case through the form, read both back (API, form, export).
    from dragonnet.api.cases import case_out
    from dragonnet.intake.importer import import_cases
    from dragonnet.operation.service import get_operation
    from dragonnet.policy.access import Actor, audit_actor
    from dragonnet.storage.db import make_engine
    from dragonnet.storage.migrate import upgrade
    from dragonnet.storage.models import Case, Party, User
    from web.seed import SLUG, seed

    engine = make_engine("sqlite:///" + sys.argv[1])
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as s:
        seed(s)
        s.commit()
        user = s.execute(select(User).where(User.username == "th_reporter")).scalar_one()
        actor = Actor.for_user(user)
        items = ("case_ref,reporting_agency,seizure_date,place_country,commodity_class,substance,quantity,unit,"
                 "Seal No.,emballage\r\nX-1,TH-CUS,2024-03-05,TH,drug,heroin,2,kg,SL-77,tins\r\n")
        report = import_cases(s, operation_slug=SLUG, agency_code="TH-CUS", actor=audit_actor(actor),
                              data=items.encode(), filename="x.csv")
        s.commit()
        imported = s.execute(select(Case).where(Case.case_ref == "X-1")).scalar_one()
        op = get_operation(s, SLUG)
        typed = forms.CaseInput.from_form({
            "case_ref": "F-1", "seizure_date": "2024-03-06", "place_country": "TH", "seal_number": "SL-88",
            "item-0-commodity_class": "drug", "item-0-substance": "heroin", "item-0-quantity": "1",
            "item-0-unit": "kg", "item-0-packaging": "bags", "party-0-name": "A Person", "party-0-alias": "Tiger",
        })
        made = forms.create_case(s, actor, op, typed)
        s.commit()
        party = s.execute(select(Party).where(Party.case_id == made.id)).scalar_one()
        export = exports.case_rows(s, actor, op)
        column = export.columns.index("seal_number")
        again = forms.case_to_input(s, made, with_parties=True)
        result = {
            "import": [report.rows_imported, imported.extra, imported.items[0].extra],
            "form": [made.extra, made.items[0].extra, party.extra],
            "api": case_out(made, [party]).model_dump(include={"extra", "items", "parties"}, mode="json"),
            "export": sorted(str(r[column]) for r in export.rows if r[1] in ("X-1", "F-1")),
            "edit": [again.extra, again.items[0].extra, again.parties[0].extra],
        }
    # The web form draws the new fields with the stored values; the case page shows the case's.
    import pathlib
    from fastapi.testclient import TestClient
    from dragonnet.app import create_app
    from web.webtest import logged_in, settings_for

    app = create_app(settings_for("sqlite:///" + sys.argv[1], pathlib.Path(sys.argv[1]).parent))
    with TestClient(app, follow_redirects=False) as client:
        logged_in(client, "th_reporter")
        edit_form = client.get(f"/cases/{made.id}/edit").text
        page = client.get(f"/cases/{made.id}").text
    web = [f'name="{n}" id="f-{n}" value="{v}"' in edit_form
           for n, v in (("seal_number", "SL-88"), ("item-0-packaging", "bags"), ("party-0-alias", "Tiger"))]
    web.append("<dt>Seal number</dt><dd>SL-88</dd>" in page)
    result["web"] = web
    return result
row = {c: None for c in headers.ITEM_COLUMNS} | {
    "_row": 1, "case_ref": "A1", "reporting_agency": "VN-CUS", "seizure_date": "2023-06-01", "place_country": "VN",
    "commodity_class": "drug", "substance": "heroin", "quantity": "1", "unit": "kg", "seal_number": "S" * 41,
}
frame = pl.DataFrame([row], schema={**dict.fromkeys(headers.ITEM_COLUMNS, pl.String), "_row": pl.Int64})
errors = normalise.normalise_items(frame).errors
typed = forms.CaseInput.from_form({"case_ref": "A1", "seal_number": "SL-1"})
print(json.dumps({
    "columns": list(headers.ITEM_COLUMNS),
    "mapped": [headers.match_header(h)[0] for h in ("Seal No.", "Numéro de scellé", "số niêm phong")],
    "too_long": errors.filter(pl.col("column") == "seal_number").get_column("reason").to_list(),
    "case_columns": list(normalise.CASE_COLUMNS),
    "form_fields": list(forms.CASE_FIELDS),
    "form_value": forms.value_of(typed, "seal_number"),
    "api": case_create.get("seal_number"),
    "template": templates.csv_template().decode().splitlines()[0].split(","),
    "export": list(exports.EXPORT_COLUMNS),
    "stored": stored(),
}))
"""


def test_the_shipped_file_defines_what_the_code_uses() -> None:
    fmt = exchange.load()
    assert headers.ITEM_COLUMNS[:3] == ("case_ref", "reporting_agency", "seizure_date")
    assert headers.ITEM_REQUIRED == (
        "case_ref", "reporting_agency", "seizure_date", "place_country", "commodity_class", "quantity", "unit",
    )  # fmt: skip
    assert headers.PARTY_REQUIRED == ("case_ref", "reporting_agency", "name")
    # Synonyms per language come from the file (French, Vietnamese, Chinese headers; value synonyms).
    assert headers.match_header("Ngày bắt giữ")[0] == "seizure_date"
    assert headers.match_header("查获日期")[0] == "seizure_date"
    assert headers.match_header("numéro de passeport", "parties")[0] == "id_number"
    assert set(fmt.column("items", "case_ref").headers) == {"en", "fr", "es", "vi", "zh", "th"}
    assert normalise.ENUMS["transport_mode"]["xe tai"] == "road"
    assert normalise.COLUMN_MAX["place_locode"] == 10 and fmt.text_max == normalise.TEXT_MAX
    assert templates.ENUM_COLUMNS["unit"][:2] == ["kg", "g"]
    assert set(normalise.CASE_COLUMNS) <= set(exports.EXPORT_COLUMNS)
    assert forms.ITEM_FIELDS == ("commodity_class", "substance", "taxon", "specimen_type", "quantity", "unit",
                                 "hs_code", "description")  # fmt: skip
    assert fmt.says_unknown_quantity("Không rõ") and fmt.says_unknown_quantity("?")
    assert not fmt.says_unknown_quantity("12")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["vocabularies"]["direction"]["synonyms"].update({"sideways": {"en": ["lateral"]}}),
         "'sideways' is not a value of Direction"),
        (lambda d: d["sheets"]["items"]["columns"][2].update({"type": "datetime"}), "type must be one of"),
        (lambda d: d["sheets"]["items"]["columns"].append({"name": "Bad Name", "level": "case", "type": "text"}),
         "is not a lower-case identifier"),
        (lambda d: d["sheets"]["items"]["columns"][3]["headers"].update({"de": ["Ort"]}), "unknown language 'de'"),
    ],
)  # fmt: skip
def test_a_mistake_in_the_file_is_a_clear_error(change: object, message: str) -> None:
    data = yaml.safe_load(exchange.DEFAULT_FILE.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    with pytest.raises(ValidationError, match=message):
        exchange.parse(data, "variant.yaml")


@pytest.mark.slow
def test_adding_a_column_is_one_edit(tmp_path: Path) -> None:
    data = yaml.safe_load(exchange.DEFAULT_FILE.read_text(encoding="utf-8"))
    columns = data["sheets"]["items"]["columns"]
    after = next(i for i, c in enumerate(columns) if c["name"] == "conveyance_ref")
    columns.insert(after + 1, SEAL_COLUMN)  # the one edit (and one per level: an item's, a party's)
    columns.insert(next(i for i, c in enumerate(columns) if c["name"] == "unit") + 1, PACKAGING_COLUMN)
    data["sheets"]["parties"]["columns"].append(ALIAS_COLUMN)
    variant = tmp_path / "exchange_format.yaml"
    variant.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    tests_dir = str(Path(__file__).resolve().parents[1])  # for web.seed, the tests' small operation
    python_path = os.pathsep.join(filter(None, [tests_dir, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, exchange.ENV_FILE: str(variant), "PYTHONPATH": python_path}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "one-edit.db")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["columns"][seen["columns"].index("conveyance_ref") + 1] == "seal_number"
    assert seen["mapped"] == ["seal_number"] * 3  # header synonyms in three languages
    assert seen["too_long"] == ["text longer than 40 characters"]  # the limit, in the normalisation
    assert "seal_number" in seen["case_columns"] and "seal_number" in seen["form_fields"]
    assert seen["form_value"] == "SL-1"
    assert 40 in [seen["api"].get("maxLength"), *(a.get("maxLength") for a in seen["api"].get("anyOf", []))]
    assert seen["api"].get("description") == "the customs seal on the container"
    assert "seal_number" in seen["template"] and "seal_number" in seen["export"]
    # Stored (in `extra`, the columns have no database column yet), read back by the API, the edit form, the export.
    stored = seen["stored"]
    assert stored["import"] == [1, {"seal_number": "SL-77"}, {"packaging": "tins"}]
    assert stored["form"] == [{"seal_number": "SL-88"}, {"packaging": "bags"}, {"alias": "Tiger"}]
    assert stored["api"]["extra"] == {"seal_number": "SL-88"} and stored["api"]["items"][0]["extra"] == {
        "packaging": "bags"
    }
    assert stored["api"]["parties"][0]["extra"] == {"alias": "Tiger"}
    assert stored["export"] == ["SL-77", "SL-88"]
    assert stored["edit"] == [{"seal_number": "SL-88"}, {"packaging": "bags"}, {"alias": "Tiger"}]
    assert stored["web"] == [True, True, True, True]


def test_a_format_file_is_read_once_per_process_and_the_same_as_pyyamls_safe_load(tmp_path: Path) -> None:
    """`load` parses a file once (every caller shares the one definition), and the fast loader reads it as
    `yaml.safe_load` does."""
    path = tmp_path / "format.yaml"
    path.write_text(exchange.DEFAULT_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    first = exchange.load(path)
    assert exchange.load(path) is first
    text = exchange.DEFAULT_FILE.read_text(encoding="utf-8")
    assert load_yaml(text) == yaml.safe_load(text)
    assert load_yaml(text) is not load_yaml(text)  # each caller gets its own data to change
