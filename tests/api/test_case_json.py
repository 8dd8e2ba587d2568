"""The bulk body's fast check (api.case_json) against the models it stands in for (api.cases.BulkIn): it never
accepts what the models refuse, and what it accepts reads exactly as the models' values read."""

from __future__ import annotations

import copy
from dataclasses import asdict
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from dragonnet.api import case_json
from dragonnet.api.cases import _BULK_CASE_SHAPE, BulkCase, BulkIn, bulk_body
from dragonnet.intake import bulk, forms


def _case(ref: str, **over: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "case_ref": ref, "seizure_date": "2024-06-05", "place_country": "Thailand", "transit_countries": ["VN", " KH"],
        "arrests": 2, "description": "  found at the gate ",
        "items": [{"commodity_class": "drug", "substance": "ICE", "quantity": 12.5, "unit": "kg"},
                  {"commodity_class": "wildlife", "taxon": "pangolin scales", "quantity": 30, "unit": "kg",
                   "description": ""}],
        "parties": [{"role": "courier", "kind": "person", "name": "Somchai Test", "birth_date": None}],
    }  # fmt: skip
    case.update(over)
    return case


def _item(**over: Any) -> dict[str, Any]:
    return {"commodity_class": "drug", "substance": "ya ba", "quantity": "3", "unit": "tablets", **over}


def _body(*cases: dict[str, Any]) -> dict[str, Any]:
    return {"operation": "op", "cases": list(cases)}


def _by_models(body: dict[str, Any]) -> forms.TypedBatch:
    """What the route read before the fast path: the models, then a CaseInput per case."""
    model = BulkIn.model_validate(body)
    return forms.TypedBatch.from_inputs([c.to_input() for c in model.cases], [c.submit for c in model.cases])


def test_the_rules_are_the_models_fields() -> None:
    assert _BULK_CASE_SHAPE.keys == frozenset(BulkCase.model_fields)
    assert _BULK_CASE_SHAPE.required == frozenset(n for n, f in BulkCase.model_fields.items() if f.is_required())


PLAIN = [
    _body(_case("A-1"), _case("A-2", submit=True, place_name=None, parties=[]), _case("A-3", arrests="1")),
    _body(_case("B-1", transit_countries="VN;KH", items=[_item(quantity=5.0)])),
    _body(_case("C-1", items=[_item(quantity=2**53, hs_code=" 2939 ")])),
    _body(_case("D-1", items=[_item(quantity=float("nan"))])),
]


@pytest.mark.parametrize("body", PLAIN)
def test_a_plain_body_reads_as_the_models_read_it(body: dict[str, Any]) -> None:
    assert case_json.plain_bulk(body, _BULK_CASE_SHAPE, bulk.MAX_CASES) is not None
    slug, batch = bulk_body(copy.deepcopy(body))
    assert slug == "op"
    assert repr(asdict(batch)) == repr(asdict(_by_models(body)))  # repr: nan == nan


CONVERTED = [  # the models take these by converting a value: the fast check leaves them to the models
    _body(_case("E-1", submit="true")),
    _body(_case("E-2", arrests=2.0)),
    _body(_case("E-3", items=[_item(quantity=True)])),
    _body(_case("E-4", items=[_item(quantity=2**60)])),
]


@pytest.mark.parametrize("body", CONVERTED)
def test_a_converted_body_goes_through_the_models(body: dict[str, Any]) -> None:
    assert case_json.plain_bulk(body, _BULK_CASE_SHAPE, bulk.MAX_CASES) is None
    _slug, batch = bulk_body(copy.deepcopy(body))
    assert asdict(batch) == asdict(_by_models(body))


REFUSED = [
    [],
    {"operation": "op"},
    {"operation": 3, "cases": [_case("F-1")]},
    {"operation": "op", "cases": []},
    {"operation": "op", "cases": [_case("F-1")], "extra": 1},
    _body(_case("F-1", items=[])),
    _body(_case("F-1", unknown="x")),
    _body({k: v for k, v in _case("F-1").items() if k != "items"}),
    _body(_case(None)),  # type: ignore[arg-type]
    _body(_case(5)),  # type: ignore[arg-type]
    _body(_case("F-" + "1" * 100)),
    _body(_case("F-1", description="x" * 100_000)),
    _body(_case("F-1", arrests=2.5)),
    _body(_case("F-1", transit_countries=["VN", 3])),
    _body(_case("F-1", items=[_item(quantity=[1])])),
    _body(_case("F-1", items=[_item(colour="red")])),
    _body(_case("F-1", items=[_item(unit=None)])),
    _body(_case("F-1", parties=[{"name": 7}])),
    _body(_case("F-1", parties=None)),
    _body(_case("F-1", items=[_item()] * (forms.MAX_ITEMS + 1))),
]


@pytest.mark.parametrize("body", REFUSED)
def test_a_refused_body_answers_the_models_errors(body: Any) -> None:
    assert case_json.plain_bulk(body, _BULK_CASE_SHAPE, bulk.MAX_CASES) is None
    with pytest.raises(ValidationError) as expected:
        BulkIn.model_validate(body)
    with pytest.raises(RequestValidationError) as answered:
        bulk_body(body)
    wanted = [(("body", *e["loc"]), e["msg"], e["type"]) for e in expected.value.errors()]
    assert [(tuple(e["loc"]), e["msg"], e["type"]) for e in answered.value.errors()] == wanted


def test_the_body_is_documented_as_the_models_say() -> None:
    import json

    from fastapi import FastAPI

    from dragonnet.api.cases import router

    app = FastAPI()
    app.include_router(router)
    body = app.openapi()["paths"]["/api/v1/cases/bulk"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert body["required"] is True and sorted(schema["required"]) == ["cases", "operation"]
    case = schema["properties"]["cases"]["items"]
    assert set(case["properties"]) == set(BulkCase.model_fields) and case["additionalProperties"] is False
    assert case["properties"]["items"]["items"]["properties"]["quantity"]["anyOf"][0] == {"type": "number"}
    assert "#/$defs/" not in json.dumps(schema)  # inlined: nothing refers outside the operation
