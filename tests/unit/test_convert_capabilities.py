"""Wire -> domain for tools, tool config, structured output and thinking: capabilities are catalog data."""

import pytest

from genserve.convert.generate import to_text_request
from genserve.core.catalog import ModelEntry
from genserve.core.types import FunctionCallingMode, ResponseFormat
from genserve.errors import InvalidArgument
from genserve.schemas.generate import GenerateContentRequest

PLAIN = ModelEntry(name="plain", engine="transformers", path="/x")
CAPABLE = ModelEntry(
    name="capable",
    engine="transformers",
    path="/x",
    function_calling=True,
    structured_output=True,
    thinking=True,
    min_thinking_budget=0,
    max_thinking_budget=1000,
    input_modalities=["text", "image"],
    max_media_per_prompt=2,
)
PRO = CAPABLE.model_copy(update={"name": "pro", "min_thinking_budget": 128, "default_thinking_budget": 128})
DECLS = [
    {"name": "get_weather", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}},
    {"name": "get_time", "parametersJsonSchema": {"type": "object", "properties": {"zone": {"type": "string"}}}},
]


def convert(entry=CAPABLE, **body):
    return to_text_request(GenerateContentRequest.model_validate({"contents": "hi", **body}), entry, entry.name)


def refused(needle, entry=CAPABLE, **body):
    with pytest.raises(InvalidArgument) as exc:
        convert(entry, **body)
    assert needle in exc.value.message, exc.value.message
    return exc.value.message


def test_declarations_in_both_schema_forms_become_json_schema():
    tools = convert(tools=[{"functionDeclarations": DECLS}]).tools
    assert [d.name for d in tools.declarations] == ["get_weather", "get_time"]
    assert tools.declarations[0].parameters["properties"]["city"]["type"] == "string"
    assert tools.mode is FunctionCallingMode.AUTO and tools.callable == tools.declarations


def test_calling_modes_and_allowed_names():
    config = {"functionCallingConfig": {"mode": "any", "allowedFunctionNames": ["get_time"]}}
    tools = convert(tools=[{"function_declarations": DECLS}], toolConfig=config).tools
    assert tools.mode is FunctionCallingMode.ANY and [d.name for d in tools.callable] == ["get_time"]
    none = convert(tools=[{"functionDeclarations": DECLS}], toolConfig={"functionCallingConfig": {"mode": 3}}).tools
    assert none.mode is FunctionCallingMode.NONE and none.callable == ()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"tools": [{"functionDeclarations": [{"name": "1bad"}]}]}, "not a valid function name"),
        ({"tools": [{"functionDeclarations": [{"name": "f"}, {"name": "f"}]}]}, "declared twice"),
        ({"tools": [{"googleSearch": {}}]}, "googleSearch"),
        ({"tools": [{"codeExecution": {}}]}, "codeExecution"),
        (
            {
                "tools": [{"functionDeclarations": DECLS}],
                "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": []}},
            },
            "is empty",
        ),
        (
            {
                "tools": [{"functionDeclarations": DECLS}],
                "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["x"]}},
            },
            "x not declared",
        ),
        (
            {
                "tools": [{"functionDeclarations": DECLS}],
                "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}},
            },
            "not a mode",
        ),
    ],
)
def test_bad_tool_requests(body, needle):
    refused(needle, **body)


def test_history_calls_must_be_declared_and_results_must_answer_a_call():
    call = {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]}
    result = {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"t": 3}}}]}
    tools = [{"functionDeclarations": DECLS}]
    ok = convert(contents=[{"role": "user", "parts": [{"text": "hi"}]}, call, result], tools=tools)
    assert len(ok.prompt.turns) == 3
    refused("has no matching declaration", contents=[call, result])
    refused("answers no earlier functionCall", contents=[result], tools=tools)


def test_function_calling_needs_a_capable_model():
    refused("function calling is not supported by model 'plain'", PLAIN, tools=[{"functionDeclarations": DECLS}])


def test_structured_output_forms():
    assert convert(generationConfig={"responseMimeType": "application/json"}).response_format == ResponseFormat("json")
    schema = {"type": "OBJECT", "properties": {"a": {"type": "INTEGER"}}}
    fmt = convert(generationConfig={"responseMimeType": "application/json", "responseSchema": schema}).response_format
    assert fmt.json_schema["properties"]["a"]["type"] == "integer"
    enum = {"type": "STRING", "enum": ["x", "y"]}
    fmt = convert(generationConfig={"responseMimeType": "text/x.enum", "responseSchema": enum}).response_format
    assert fmt == ResponseFormat("enum", enum_values=("x", "y"))


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"responseSchema": {"type": "STRING"}}, "needs responseMimeType"),
        ({"responseMimeType": "application/xml"}, "'application/xml' is not supported"),
        ({"responseMimeType": "text/x.enum"}, "needs a schema"),
        (
            {"responseMimeType": "application/json", "responseSchema": {"type": "STRING"}, "responseJsonSchema": {}},
            "not both",
        ),
    ],
)
def test_bad_structured_output_requests(config, needle):
    refused(needle, generationConfig=config)


def test_structured_output_needs_a_capable_model():
    refused("structured output is not supported", PLAIN, generationConfig={"responseMimeType": "application/json"})


def test_thinking_budgets():
    assert convert().thinking.budget is None  # dynamic: the model decides
    t = convert(generationConfig={"thinkingConfig": {"thinkingBudget": 50, "includeThoughts": True}}).thinking
    assert (t.enabled, t.budget, t.include_thoughts) == (True, 50, True)
    assert convert(generationConfig={"thinkingConfig": {"thinkingBudget": 0}}).thinking.enabled is False
    assert convert(generationConfig={"thinkingConfig": {"thinkingLevel": "low"}}).thinking.budget == 125
    assert convert(PRO).thinking.budget == 128
    refused("only works in thinking mode", PRO, generationConfig={"thinkingConfig": {"thinkingBudget": 0}})
    refused("between 0 and 1000", generationConfig={"thinkingConfig": {"thinkingBudget": 5000}})
    refused("not both", generationConfig={"thinkingConfig": {"thinkingBudget": 5, "thinkingLevel": "LOW"}})
    refused("thinking is not supported", PLAIN, generationConfig={"thinkingConfig": {"includeThoughts": True}})
    assert convert(PLAIN, generationConfig={"thinkingConfig": {"thinkingBudget": 0}}).thinking is None


def test_media_parts_follow_the_models_modalities_and_limit():
    image = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0K"}}
    turn = convert(contents=[{"parts": [image, {"text": "what?"}]}]).prompt.turns[0]
    assert turn.media[0].mime_type == "image/png" and turn.text == "what?"
    refused("accepts text only", PLAIN, contents=[{"parts": [image]}])
    refused("does not accept audio", contents=[{"parts": [{"inlineData": {"mimeType": "audio/wav", "data": "UklG"}}]}])
    refused("more than model 'capable' accepts", contents=[{"parts": [image, image, image]}])
