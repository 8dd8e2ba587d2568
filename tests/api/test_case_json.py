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


def _as_models(outcomes: list[bulk.Outcome]) -> bytes:
    """The bulk response as the route encoded it before: a BulkResult per case in a BulkOut, serialised by the
    response model (FastAPI's path for a route with a response model and the default response class)."""
    from pydantic import TypeAdapter

    from dragonnet.api.cases import BulkOut, BulkResult, FieldErrorOut
    from dragonnet.errors import DragonnetError, NotFound
    from dragonnet.policy.access import PermissionDenied

    results = []
    for o in outcomes:
        exc = o.error
        if exc is None:
            results.append(BulkResult(index=o.index, ok=True, id=o.case_id, case_ref=o.case_ref, status=201))
        elif isinstance(exc, forms.CaseInvalid):
            results.append(BulkResult(index=o.index, ok=False, case_ref=o.case_ref, status=422, message=exc.message,
                                      fields=[FieldErrorOut(**e.to_dict()) for e in exc.errors]))  # fmt: skip
        else:
            assert isinstance(exc, DragonnetError)
            status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionDenied) else 422
            results.append(BulkResult(index=o.index, ok=False, case_ref=o.case_ref, status=status, message=exc.message))
    created = sum(r.ok for r in results)
    model = BulkOut(created=created, rejected=len(results) - created, results=results)
    return TypeAdapter(BulkOut).dump_json(TypeAdapter(BulkOut).validate_python(model))


def test_the_bulk_response_is_the_models_json_byte_for_byte() -> None:
    from dragonnet.api.cases import bulk_response
    from dragonnet.errors import DragonnetError, NotFound
    from dragonnet.policy.access import Actor, PermissionDenied

    nobody = Actor(user_id=None, username=None, agency_id=None, agency_code=None, country=None)
    odd = 'é 中文 "q" \\ \n\t\x01\x7f \u2028 🐉'
    outcomes = [
        bulk.Outcome(0, "A-1", case_id=17),
        bulk.Outcome(
            1,
            odd,
            error=forms.CaseInvalid(
                [
                    forms.FieldError("items[0].quantity", odd, "not a number", "12.5"),
                    forms.FieldError("seizure_date", None, "required"),
                ]
            ),
        ),
        bulk.Outcome(2, None, error=NotFound("operation not found")),
        bulk.Outcome(3, "A-4", error=PermissionDenied(nobody, "operation", 1, "not a member of this operation")),
        bulk.Outcome(4, "A-5", error=DragonnetError(f"other {odd}")),
        bulk.Outcome(5, "A-6", case_id=2**40),
    ]
    response = bulk_response(outcomes)
    assert response.body == _as_models(outcomes)
    assert response.media_type == "application/json"
