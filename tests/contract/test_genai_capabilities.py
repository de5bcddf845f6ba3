"""google-genai 3.x against a live server: structured output, function calling (every mode, the automatic
function-calling loop, streaming), thinking, and image / document input — on the demo's random models."""

import enum
import json

import jsonschema
import pytest
from google.genai import errors, types
from pydantic import BaseModel

from tests.media import tiny_pdf, tiny_png

pytestmark = pytest.mark.contract

TEXT_MODEL = "gemini-2.0-flash-lite"  # the demo's text-only model
VISION_MODEL = "gemini-2.0-flash"
THINKING_MODEL = "gemini-2.5-flash"


@pytest.fixture(scope="module")
def sdk(live):
    from google import genai

    return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=live.url))


class Person(BaseModel):
    name: str
    age: int
    hobbies: list[str]


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


# --- structured output -------------------------------------------------------------------------------


def test_response_parsed_yields_the_pydantic_object(sdk):
    for seed in range(3):
        r = sdk.models.generate_content(
            model=TEXT_MODEL,
            contents="Give me a person",
            config=types.GenerateContentConfig(
                response_mime_type="application/json", response_schema=Person, seed=seed, max_output_tokens=1000
            ),
        )
        assert isinstance(r.parsed, Person), r.text


def test_response_json_schema_and_json_mode_always_parse(sdk):
    schema = {"type": "array", "items": {"type": "integer", "minimum": 3, "maximum": 9}, "maxItems": 5}
    r = sdk.models.generate_content(
        model=TEXT_MODEL,
        contents="numbers",
        config={"response_mime_type": "application/json", "response_json_schema": schema, "max_output_tokens": 200},
    )
    jsonschema.validate(json.loads(r.text), schema)
    r = sdk.models.generate_content(
        model=TEXT_MODEL, contents="anything", config={"response_mime_type": "application/json", "seed": 1}
    )
    json.loads(r.text)


def test_enum_output(sdk):
    r = sdk.models.generate_content(
        model=TEXT_MODEL, contents="A colour?", config={"response_mime_type": "text/x.enum", "response_schema": Colour}
    )
    assert r.parsed in list(Colour)


def test_an_unsupported_schema_is_a_400_naming_it(sdk):
    # The SDK itself warns that WIDGET is no Type it knows, then sends the schema as it is: the server must refuse it.
    with pytest.raises(errors.ClientError) as bad, pytest.warns(UserWarning, match="WIDGET is not a valid Type"):
        sdk.models.generate_content(
            model=TEXT_MODEL,
            contents="x",
            config={"response_mime_type": "application/json", "response_schema": {"type": "WIDGET"}},
        )
    assert bad.value.code == 400 and "responseSchema" in bad.value.message


# --- function calling --------------------------------------------------------------------------------

WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="The weather in a city",
    parameters=types.Schema(
        type="OBJECT",
        properties={"city": types.Schema(type="STRING", max_length=12), "days": types.Schema(type="INTEGER")},
        required=["city"],
    ),
)
TIME = types.FunctionDeclaration(
    name="get_time",
    description="The time in a zone",
    parameters_json_schema={"type": "object", "properties": {"zone": {"enum": ["CET", "UTC"]}}, "required": ["zone"]},
)
TOOLS = [types.Tool(function_declarations=[WEATHER, TIME])]


def calling(mode: str, **kwargs) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        tools=TOOLS,
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode=mode, **kwargs)),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        max_output_tokens=400,
    )


def test_mode_any_forces_valid_calls_to_allowed_functions(sdk):
    for seed in range(3):
        config = calling("ANY", allowed_function_names=["get_time"])
        config.seed = seed
        r = sdk.models.generate_content(model=TEXT_MODEL, contents="What time is it?", config=config)
        assert r.function_calls, r.candidates[0]
        for call in r.function_calls:
            assert call.name == "get_time"
            jsonschema.validate(call.args, TIME.parameters_json_schema)


def test_mode_none_never_calls(sdk):
    r = sdk.models.generate_content(model="scripted-tools", contents="Weather?", config=calling("NONE"))
    # The scripted reply holds a call, but with mode NONE the model's tags are plain text, never a call.
    assert not r.function_calls and "get_weather" in r.text


def test_mode_auto_turns_the_models_tool_call_into_a_function_call_part(sdk):
    r = sdk.models.generate_content(model="scripted-tools", contents="Weather in Paris?", config=calling("AUTO"))
    assert r.text == "Checking the weather."
    assert [(c.name, c.args) for c in r.function_calls] == [("get_weather", {"city": "Paris"})]
    assert r.candidates[0].finish_reason == types.FinishReason.STOP


def test_streaming_delivers_the_call_whole(sdk):
    chunks = list(
        sdk.models.generate_content_stream(model="scripted-tools", contents="Weather?", config=calling("AUTO"))
    )
    calls = [c for chunk in chunks for c in (chunk.function_calls or [])]
    assert [(c.name, c.args) for c in calls] == [("get_weather", {"city": "Paris"})]
    assert "<tool_call>" not in "".join(chunk.text or "" for chunk in chunks)


def test_automatic_function_calling_completes_the_loop(sdk):
    seen = []

    def get_weather(city: str) -> str:
        """Returns the weather in a city."""
        seen.append(city)
        return f"sunny in {city}"

    r = sdk.models.generate_content(
        model="scripted-tools", contents="Weather in Paris?", config=types.GenerateContentConfig(tools=[get_weather])
    )
    assert seen == ["Paris"]
    assert r.text == "It is sunny in Paris."
    history = r.automatic_function_calling_history
    assert history[-1].parts[0].function_response.response == {"result": "sunny in Paris"}


def test_the_sdk_loop_runs_the_demo_models_forced_calls(sdk):
    calls = []

    def get_time(zone: str) -> str:
        """The time in a zone (CET or UTC)."""
        calls.append(zone)
        return "12:00"

    config = types.GenerateContentConfig(
        tools=[get_time],
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(maximum_remote_calls=2),
        max_output_tokens=300,
        seed=0,  # a seed with which the random model makes two calls in its first reply
    )
    sdk.models.generate_content(model=TEXT_MODEL, contents="Time?", config=config)
    assert len(calls) >= 2 and all(isinstance(z, str) for z in calls)


def test_bad_tool_requests_are_400s(sdk):
    cases = [
        (calling("ANY", allowed_function_names=["nope"]), "allowedFunctionNames"),
        (types.GenerateContentConfig(tools=[types.Tool(google_search=types.GoogleSearch())]), "googleSearch"),
    ]
    for config, needle in cases:
        with pytest.raises(errors.ClientError) as bad:
            sdk.models.generate_content(model=TEXT_MODEL, contents="x", config=config)
        assert bad.value.code == 400 and needle in bad.value.message
    orphan = [
        types.Content(role="user", parts=[types.Part(text="hi")]),
        types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather", response={"r": 1})]),
    ]
    with pytest.raises(errors.ClientError) as bad:
        sdk.models.generate_content(model=TEXT_MODEL, contents=orphan, config=calling("AUTO"))
    assert bad.value.code == 400 and "functionResponse" in bad.value.message


# --- thinking ----------------------------------------------------------------------------------------


def test_thoughts_are_returned_only_when_asked_for(sdk):
    shown = sdk.models.generate_content(
        model=THINKING_MODEL,
        contents="Why is the sky blue?",
        config={"thinking_config": {"include_thoughts": True, "thinking_budget": 8}, "max_output_tokens": 40},
    )
    parts = shown.candidates[0].content.parts
    thoughts = [p for p in parts if p.thought]
    assert thoughts and all(p.text for p in thoughts)
    assert shown.text == "".join(p.text for p in parts if not p.thought and p.text)
    usage = shown.usage_metadata
    assert 0 < usage.thoughts_token_count <= 8 + 3  # the budget, plus the close tag the engine inserts
    assert usage.total_token_count == usage.prompt_token_count + usage.thoughts_token_count + (
        usage.candidates_token_count or 0
    )
    hidden = sdk.models.generate_content(
        model=THINKING_MODEL, contents="Why is the sky blue?", config={"max_output_tokens": 60}
    )
    assert not any(p.thought for p in hidden.candidates[0].content.parts)
    assert hidden.usage_metadata.thoughts_token_count > 0


def test_a_zero_budget_turns_thinking_off_where_the_model_allows(sdk):
    off = sdk.models.generate_content(
        model=THINKING_MODEL, contents="hi", config={"thinking_config": {"thinking_budget": 0}, "max_output_tokens": 5}
    )
    assert off.usage_metadata.thoughts_token_count is None
    with pytest.raises(errors.ClientError) as bad:
        sdk.models.generate_content(
            model="gemini-2.5-pro", contents="hi", config={"thinking_config": {"thinking_budget": 0}}
        )
    assert bad.value.code == 400 and "only works in thinking mode" in bad.value.message


def test_streamed_thoughts_come_first_and_are_marked(sdk):
    config = {"thinking_config": {"include_thoughts": True, "thinking_budget": 6}, "max_output_tokens": 30, "seed": 2}
    chunks = list(sdk.models.generate_content_stream(model=THINKING_MODEL, contents="hi", config=config))
    flags = [p.thought or False for c in chunks for p in (c.candidates[0].content.parts or [])]
    assert flags[0] is True and flags == sorted(flags, reverse=True)


# --- multimodal input --------------------------------------------------------------------------------


def test_an_image_question_inline_and_by_file(sdk, tmp_path):
    png = tiny_png()
    inline = sdk.models.generate_content(
        model=VISION_MODEL,
        contents=[types.Part.from_bytes(data=png, mime_type="image/png"), "Caption this image."],
        config={"max_output_tokens": 8, "temperature": 0},
    )
    assert inline.text
    details = {d.modality: d.token_count for d in inline.usage_metadata.prompt_tokens_details}
    assert details[types.MediaModality.IMAGE] > 0 and details[types.MediaModality.TEXT] > 0
    assert sum(details.values()) == inline.usage_metadata.prompt_token_count
    path = tmp_path / "photo.png"
    path.write_bytes(png)
    uploaded = sdk.files.upload(file=path)
    by_file = sdk.models.generate_content(
        model=VISION_MODEL,
        contents=[uploaded, "Caption this image."],
        config={"max_output_tokens": 8, "temperature": 0},
    )
    assert by_file.text == inline.text  # same image, same greedy answer


def test_models_refuse_what_they_cannot_read(sdk):
    png = types.Part.from_bytes(data=tiny_png(), mime_type="image/png")
    with pytest.raises(errors.ClientError) as text_only:
        sdk.models.generate_content(model=TEXT_MODEL, contents=[png, "What is this?"])
    assert text_only.value.code == 400 and "accepts text only" in text_only.value.message
    audio = types.Part.from_bytes(data=b"RIFF....WAVEfmt ", mime_type="audio/wav")
    with pytest.raises(errors.ClientError) as no_audio:
        sdk.models.generate_content(model=VISION_MODEL, contents=[audio, "Transcribe"])
    assert no_audio.value.code == 400 and "text, image" in no_audio.value.message
    broken = types.Part.from_bytes(data=b"\x89PNG not really", mime_type="image/png")
    with pytest.raises(errors.ClientError) as undecodable:
        sdk.models.generate_content(model=VISION_MODEL, contents=[broken, "What is this?"])
    assert undecodable.value.code == 400


def test_a_pdf_is_read_as_text_by_a_text_model(sdk):
    pdf = types.Part.from_bytes(data=tiny_pdf("Quarterly results were strong"), mime_type="application/pdf")
    with_pdf = sdk.models.count_tokens(model=TEXT_MODEL, contents=[pdf, "Summarize"]).total_tokens
    without = sdk.models.count_tokens(model=TEXT_MODEL, contents=["Summarize"]).total_tokens
    words = sdk.models.count_tokens(model=TEXT_MODEL, contents=["Quarterly results were strong"]).total_tokens
    assert with_pdf > without and with_pdf - without <= words + 2
