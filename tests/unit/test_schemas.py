"""Proto3-JSON parsing: both spellings, both base64 alphabets, floats for ints, enums by name or number."""

import base64

import pytest
from pydantic import ValidationError

from genserve.schemas.embed import BatchEmbedContentsRequest, TaskType
from genserve.schemas.generate import GenerateContentRequest, HarmCategory, Modality
from genserve.schemas.tokens import CountTokensRequest


def test_python_sdk_mixed_casing_is_understood():
    body = GenerateContentRequest.model_validate(
        {
            "contents": [{"parts": [{"inlineData": {"data": "-__--w==", "mime_type": "image/png"}}], "role": "user"}],
            "system_instruction": {"parts": [{"text": "terse"}], "role": "user"},
            "generationConfig": {"topK": 20.0, "max_output_tokens": 7, "thinkingConfig": {"include_thoughts": True}},
        }
    )
    assert body.contents[0].parts[0].inline_data.data == base64.urlsafe_b64decode("-__--w==")
    assert body.contents[0].parts[0].inline_data.mime_type == "image/png"
    assert body.system_instruction.parts[0].text == "terse"
    assert body.generation_config.top_k == 20 and isinstance(body.generation_config.top_k, int)
    assert body.generation_config.max_output_tokens == 7
    assert body.generation_config.thinking_config.include_thoughts is True


def test_standard_base64_and_missing_padding_decode():
    data = bytes(range(250, 256))
    for encoded in (base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode().rstrip("=")):
        part = (
            GenerateContentRequest.model_validate(
                {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": encoded}}]}]}
            )
            .contents[0]
            .parts[0]
        )
        assert part.inline_data.data == data


def test_invalid_base64_is_a_validation_error_naming_the_field():
    with pytest.raises(ValidationError) as err:
        GenerateContentRequest.model_validate({"contents": [{"parts": [{"inlineData": {"data": "@@@"}}]}]})
    assert "inlineData" in str(err.value) or "inline_data" in str(err.value)


def test_fractional_int_is_refused():
    with pytest.raises(ValidationError):
        GenerateContentRequest.model_validate({"contents": "x", "generationConfig": {"topK": 2.5}})


def test_enums_accept_names_in_any_case_and_proto_numbers():
    body = GenerateContentRequest.model_validate(
        {
            "contents": "x",
            "safetySettings": [{"category": 8, "threshold": 3}, {"category": "harm_category_harassment"}],
            "generationConfig": {"responseModalities": ["TEXT", 2]},
        }
    )
    assert body.safety_settings[0].category is HarmCategory.HARM_CATEGORY_HATE_SPEECH
    assert body.safety_settings[0].threshold.name == "BLOCK_ONLY_HIGH"
    assert body.safety_settings[1].category is HarmCategory.HARM_CATEGORY_HARASSMENT
    assert body.generation_config.response_modalities == [Modality.TEXT, Modality.IMAGE]
    batch = BatchEmbedContentsRequest.model_validate(
        {"requests": [{"content": {"parts": [{"text": "a"}]}, "task_type": 2, "outputDimensionality": 3.0}]}
    )
    assert batch.requests[0].task_type is TaskType.RETRIEVAL_DOCUMENT
    assert batch.requests[0].output_dimensionality == 3


def test_unknown_enum_name_is_refused():
    with pytest.raises(ValidationError):
        GenerateContentRequest.model_validate({"contents": "x", "safetySettings": [{"category": "NOPE"}]})


def test_unknown_fields_are_ignored_and_user_data_keeps_its_keys():
    body = GenerateContentRequest.model_validate(
        {
            "contents": [
                {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"snake_key": 1, "camelKey": 2}}}]},
                {"role": "user", "parts": [{"function_response": {"name": "f", "response": {"a_b": True}}}]},
            ],
            "someFutureField": {"x": 1},
            "generationConfig": {"responseSchema": {"properties": {"first_name": {"type": "STRING"}}}},
        }
    )
    assert body.contents[0].parts[0].function_call.args == {"snake_key": 1, "camelKey": 2}
    assert body.contents[1].parts[0].function_response.response == {"a_b": True}
    assert "first_name" in body.generation_config.response_schema["properties"]


def test_string_contents_and_string_system_instruction():
    body = GenerateContentRequest.model_validate({"contents": "hi", "systemInstruction": "be brief"})
    assert body.contents[0].role == "user" and body.contents[0].parts[0].text == "hi"
    assert body.system_instruction.parts[0].text == "be brief"


def test_count_tokens_accepts_both_forms():
    plain = CountTokensRequest.model_validate({"contents": [{"parts": [{"text": "a"}]}]})
    legacy = CountTokensRequest.model_validate({"generateContentRequest": {"model": "models/x", "contents": "a"}})
    assert plain.contents[0].parts[0].text == "a"
    assert legacy.generate_content_request.contents[0].parts[0].text == "a"


def test_responses_dump_lower_camel_case_without_unset_fields():
    from genserve.schemas.generate import Candidate, GenerateContentResponse, UsageMetadata

    wire = GenerateContentResponse(
        candidates=[Candidate(finish_reason="STOP", index=0)],
        usage_metadata=UsageMetadata(prompt_token_count=3, total_token_count=3),
        response_id="r",
    ).wire()
    assert wire == {
        "candidates": [{"finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3},
        "responseId": "r",
    }
