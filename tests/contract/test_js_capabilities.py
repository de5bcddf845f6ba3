"""Structured output, function calling, thinking and image input through the official JavaScript SDK."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from tests.contract.js_runner import SDKS, run_node
from tests.contract.test_js_sdk import check

pytestmark = [pytest.mark.contract, pytest.mark.live]


@pytest.fixture(scope="module", params=list(SDKS))
def js(request: pytest.FixtureRequest, live: Any) -> dict[str, Any]:
    return run_node("capabilities.mjs", live.url, request.param)


def test_json_schema_output_parses_and_validates(js):
    result = check(js, "json_schema")
    jsonschema.validate(json.loads(result["text"]), result["schema"])


def test_mode_any_returns_valid_calls(js):
    result = check(js, "forced_call")
    assert result["calls"], result
    for call in result["calls"]:
        assert call["name"] == "get_weather"
        jsonschema.validate(call["args"], result["schema"])


def test_a_streamed_call_and_the_answer_to_its_response(js):
    result = check(js, "streamed_call_then_answer")
    assert [(c["name"], c["args"]) for c in result["calls"]] == [("get_weather", {"city": "Paris"})]
    assert result["answer"] == "It is sunny in Paris." and result["history"] >= 4  # streamed chunks count apart


def test_thought_parts_and_their_token_count(js):
    result = check(js, "thoughts")
    assert result["thoughtParts"] >= 1 and result["usage"]["thoughtsTokenCount"] > 0


def test_an_inline_image_is_read(js):
    result = check(js, "image")
    modalities = {d["modality"]: d["tokenCount"] for d in result["details"]}
    assert result["text"] and modalities.get("IMAGE", 0) > 0
