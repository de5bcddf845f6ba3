"""The default catalog's text names answer with SmolLM2-135M-Instruct, through the google-genai SDK on a real socket.

A 135M-parameter model is weak, so the answers asserted are the ones it gets right greedily (measured through
llama.cpp and through genserve alike): the capital of Japan, 2 + 2, a colour given in the turn before."""

from __future__ import annotations

import re

import pydantic
from google import genai
from google.genai import errors, types

from tests.real.conftest import GREEDY

COMMON_WORDS = {"the", "a", "an", "is", "are", "of", "to", "and", "in", "that", "it", "can", "data", "ai", "learn"}


def test_facts_it_knows(sdk: genai.Client) -> None:
    japan = sdk.models.generate_content(
        model="gemini-2.0-flash", contents="What is the capital of Japan?", config=GREEDY
    )
    assert "Tokyo" in japan.text
    sum_ = sdk.models.generate_content(model="gemini-2.0-flash-lite", contents="What is 2 + 2?", config=GREEDY)
    assert re.search(r"\b4\b|\bfour\b", sum_.text, re.IGNORECASE), sum_.text
    assert japan.candidates[0].finish_reason == types.FinishReason.STOP


def test_the_readme_sample_streams_english(sdk: genai.Client) -> None:
    """The README's first sample, as written (the default sampling), prints English words, not random tokens."""
    chunks: list[str] = []
    for chunk in sdk.models.generate_content_stream(model="gemini-2.0-flash", contents="How does AI work?"):
        chunks.append(chunk.text or "")
        if len(chunks) == 40:
            break  # enough to judge; closing the stream ends the generation
    text = "".join(chunks)
    words = re.findall(r"[A-Za-z']+", text.lower())
    assert len(chunks) > 2 and len(words) >= 10, text
    assert len(COMMON_WORDS & set(words)) >= 3, text


def test_a_chat_keeps_its_context(sdk: genai.Client) -> None:
    """The dog's name is only in the first turn. (Measured greedily: the 135M model gets this one, and a city; asked
    for a colour, a fruit or a number given before, it talks about itself.)"""
    chat = sdk.chats.create(model="gemini-2.0-flash", config=GREEDY)
    chat.send_message("I have a dog called Max.")
    reply = chat.send_message("What is my dog's name?")
    assert "Max" in reply.text


def test_system_instruction_stop_sequences_and_token_counts(sdk: genai.Client) -> None:
    config = types.GenerateContentConfig(
        temperature=0, system_instruction="You are a helpful assistant.", stop_sequences=["Tokyo"]
    )
    r = sdk.models.generate_content(model="gemini-2.0-flash", contents="What is the capital of Japan?", config=config)
    assert "Tokyo" not in r.text and r.text.strip()
    counted = sdk.models.count_tokens(model="gemini-2.0-flash", contents="What is the capital of Japan?")
    usage = sdk.models.generate_content(
        model="gemini-2.0-flash", contents="What is the capital of Japan?"
    ).usage_metadata
    assert counted.total_tokens == usage.prompt_token_count


def test_seeds_repeat_and_candidates_differ(sdk: genai.Client) -> None:
    seeded = types.GenerateContentConfig(seed=7, max_output_tokens=24, candidate_count=2)
    first = sdk.models.generate_content(model="gemini-2.0-flash", contents="Tell me a story.", config=seeded)
    again = sdk.models.generate_content(model="gemini-2.0-flash", contents="Tell me a story.", config=seeded)
    texts = [c.content.parts[0].text for c in first.candidates]
    assert texts == [c.content.parts[0].text for c in again.candidates]
    assert len(texts) == 2 and texts[0] != texts[1]


class Recipe(pydantic.BaseModel):
    recipe_name: str
    ingredients: list[str]


def test_a_documented_schema_parses(sdk: genai.Client) -> None:
    """The docs' structured output sample (a list of recipes), greedily."""
    config = types.GenerateContentConfig(
        temperature=0, response_mime_type="application/json", response_schema=list[Recipe], max_output_tokens=400
    )
    r = sdk.models.generate_content(
        model="gemini-2.5-flash",
        contents="List a few popular cookie recipes, and include the amounts of ingredients.",
        config=config,
    )
    assert isinstance(r.parsed, list) and r.parsed and all(isinstance(x, Recipe) for x in r.parsed), r.text


WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Get the current weather in a city.",
    parameters_json_schema={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = types.FunctionDeclaration(
    name="get_time",
    description="Get the current time in a timezone.",
    parameters_json_schema={"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
)


def test_any_with_two_functions_gives_a_valid_call(sdk: genai.Client) -> None:
    config = types.GenerateContentConfig(
        temperature=0,
        tools=[types.Tool(function_declarations=[WEATHER, TIME])],
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
    )
    r = sdk.models.generate_content(model="gemini-2.0-flash", contents="What's the weather in Paris?", config=config)
    calls = r.function_calls
    assert calls and calls[0].name in ("get_weather", "get_time"), r
    key = "city" if calls[0].name == "get_weather" else "timezone"
    assert isinstance(calls[0].args.get(key), str), calls[0].args


def test_automatic_function_calling_with_any_calls_the_python_function(sdk: genai.Client) -> None:
    """The SDK runs the declared Python function; max_output_tokens 30 leaves room for a call (a valid one is far
    shorter), so no MALFORMED_FUNCTION_CALL."""
    called: list[str] = []

    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        called.append(city)
        return f"It is sunny in {city}."

    config = types.GenerateContentConfig(
        max_output_tokens=30,
        tools=[get_weather],
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(maximum_remote_calls=2),
    )
    sdk.models.generate_content(model="gemini-2.0-flash", contents="What's the weather in Paris?", config=config)
    assert called and all(isinstance(city, str) for city in called)


def test_thinking_names_answer_without_thoughts(sdk: genai.Client) -> None:
    """A budget is an upper bound: SmolLM2 does not reason, so it spends none and no thought part comes back."""
    config = types.GenerateContentConfig(
        temperature=0, thinking_config=types.ThinkingConfig(thinking_budget=1024, include_thoughts=True)
    )
    r = sdk.models.generate_content(model="gemini-2.5-flash", contents="What is the capital of Japan?", config=config)
    assert "Tokyo" in r.text
    assert not any(p.thought for p in r.candidates[0].content.parts)
    assert not r.usage_metadata.thoughts_token_count
    pro_off = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_budget=0))
    try:
        sdk.models.generate_content(model="gemini-2.5-pro", contents="Hi", config=pro_off)
    except errors.ClientError as exc:
        assert exc.code == 400
    else:
        raise AssertionError("gemini-2.5-pro accepted thinkingBudget 0, which Google's pro models refuse")


def test_images_go_to_a_model_that_reads_them(sdk: genai.Client) -> None:
    """SmolLM2 reads text only: an image gets a 400 that says so, never a silent ignore."""
    image = types.Part.from_bytes(data=b"\x89PNG\r\n\x1a\n", mime_type="image/png")
    try:
        sdk.models.generate_content(model="gemini-2.0-flash", contents=[image, "What is this?"])
    except errors.ClientError as exc:
        assert exc.code == 400 and "image" in exc.message
    else:
        raise AssertionError("an image reached a text-only model")
