"""Wire -> domain conversion: sampling defaults and limits, prompts, and refusals that name the field."""

import pytest

from genserve.convert.contents import to_prompt
from genserve.convert.generate import to_text_request
from genserve.core.catalog import ModelEntry
from genserve.errors import InvalidArgument
from genserve.schemas.generate import GenerateContentRequest

ENTRY = ModelEntry(name="m", engine="transformers", path="/x", output_token_limit=100, max_candidate_count=4)


def request(**config):
    body = {"contents": "hi", "generationConfig": config} if config else {"contents": "hi"}
    return to_text_request(GenerateContentRequest.model_validate(body), ENTRY, "m")


def test_defaults_come_from_the_catalog_entry():
    s = request().sampling
    assert (s.temperature, s.top_p, s.top_k, s.max_output_tokens, s.candidate_count) == (1.0, 0.95, 64, 100, 1)


def test_explicit_sampling_fields_are_kept():
    s = request(
        temperature=0,
        topP=0.5,
        topK=3,
        maxOutputTokens=7,
        stopSequences=["x"],
        seed=9,
        candidateCount=2,
        presencePenalty=0.5,
        frequencyPenalty=-0.5,
    ).sampling
    assert (s.temperature, s.top_p, s.top_k, s.max_output_tokens) == (0, 0.5, 3, 7)
    assert (s.stop_sequences, s.seed, s.candidate_count) == (("x",), 9, 2)
    assert (s.presence_penalty, s.frequency_penalty) == (0.5, -0.5)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": 2.5}, "temperature"),
        ({"topP": 1.5}, "topP"),
        ({"topK": -1}, "topK"),
        ({"maxOutputTokens": 0}, "maxOutputTokens"),
        ({"maxOutputTokens": 101}, "maxOutputTokens"),
        ({"candidateCount": 0}, "candidateCount"),
        ({"candidateCount": 5}, "candidateCount"),
        ({"stopSequences": list("abcdef")}, "stopSequences"),
        ({"presencePenalty": 3}, "presencePenalty"),
        ({"responseMimeType": "application/json"}, "responseMimeType"),
        ({"responseModalities": ["IMAGE"]}, "responseModalities"),
        ({"thinkingConfig": {"includeThoughts": True}}, "thinkingConfig"),
        ({"responseLogprobs": True}, "responseLogprobs"),
    ],
)
def test_out_of_range_or_unsupported_config_is_refused_by_name(config, field):
    with pytest.raises(InvalidArgument) as err:
        request(**config)
    assert field in err.value.message


def test_thinking_budget_zero_is_accepted_on_a_model_without_thinking():
    assert request(thinkingConfig={"thinkingBudget": 0}).sampling.max_output_tokens == 100


def test_tools_are_refused_until_the_model_supports_them():
    body = GenerateContentRequest.model_validate(
        {"contents": "hi", "tools": [{"functionDeclarations": [{"name": "f"}]}]}
    )
    with pytest.raises(InvalidArgument, match="tools"):
        to_text_request(body, ENTRY, "m")


def prompt(contents, system=None):
    body = GenerateContentRequest.model_validate({"contents": contents, "systemInstruction": system})
    return to_prompt(body.contents, body.system_instruction, ENTRY)


def test_roles_system_and_consecutive_turns_survive():
    p = prompt(
        [
            {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
            {"role": "model", "parts": [{"text": "c"}]},
            {"role": "model", "parts": [{"text": "d", "thought": False}, {"text": "hidden", "thought": True}]},
        ],
        system={"role": "user", "parts": [{"text": "sys"}]},
    )
    assert p.system == "sys"
    assert [(t.role, t.text) for t in p.turns] == [("user", "ab"), ("model", "c"), ("model", "d")]


def test_text_inline_data_is_read_as_text():
    p = prompt([{"parts": [{"inlineData": {"mimeType": "text/plain", "data": "aGk="}}]}])
    assert p.turns[0].text == "hi"


@pytest.mark.parametrize(
    ("contents", "needle"),
    [
        ([], "contents is not specified"),
        ([{"role": "user", "parts": []}], "contents[0].parts"),
        ([{"role": "user", "parts": [{}]}], "contents[0].parts[0].data"),
        ([{"role": "tool", "parts": [{"text": "x"}]}], "role"),
        ([{"parts": [{"inlineData": {"mimeType": "image/png", "data": "aGk="}}]}], "does not accept image input"),
        ([{"parts": [{"fileData": {"fileUri": "files/abc", "mimeType": "video/mp4"}}]}], "does not accept video input"),
        ([{"parts": [{"executableCode": {"code": "1"}}]}], "code execution"),
    ],
)
def test_bad_contents_are_refused_with_the_place_named(contents, needle):
    with pytest.raises(InvalidArgument) as err:
        prompt(contents)
    assert needle in err.value.message
