"""Raw model text -> thought text, answer text and function calls, however the stream is cut."""

import pytest

from genserve.core.reply_format import HERMES
from genserve.core.reply_parser import ReplyParser, merge_parts
from genserve.core.types import FunctionCall, ReplyText

RAW = (
    "\nLet me look that up.\n</think>\n\nChecking the weather.\n"
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
    '<tool_call>\n{"name": "get_time", "arguments": "{\\"zone\\": \\"CET\\"}"}\n</tool_call>'
)
EXPECTED = [
    ReplyText("Let me look that up.", thought=True),
    ReplyText("Checking the weather."),
    FunctionCall("get_weather", {"city": "Paris"}),
    FunctionCall("get_time", {"zone": "CET"}),
]


def parse(raw: str, step: int, **flags) -> tuple[list, ReplyParser]:
    parser = ReplyParser(HERMES, **flags)
    parts = []
    for i in range(0, len(raw), step):
        parts += parser.feed(raw[i : i + step])
    return merge_parts(parts + parser.finish()), parser


@pytest.mark.parametrize("step", [1, 2, 3, 7, 1000])
def test_any_split_of_the_stream_gives_the_same_parts(step):
    parts, parser = parse(RAW, step, tools=True, thinking=True, in_thought=True)
    assert parts == EXPECTED
    assert parser.malformed is None


def test_a_partial_tag_is_never_streamed_as_text():
    parser = ReplyParser(HERMES, tools=True, thinking=False)
    assert parser.feed("Hello <tool_") == [ReplyText("Hello")]
    assert parser.feed('call>{"name": "f"}</tool_call>') == [FunctionCall("f", {})]


def test_tags_are_plain_text_when_the_request_has_no_tools_or_thinking():
    raw = "a <tool_call>{}</tool_call> <think>b"
    parts, _ = parse(raw, 3, tools=False, thinking=False)
    assert parts == [ReplyText(raw)]


def test_a_call_that_does_not_parse_is_malformed_and_ends_the_reply():
    parts, parser = parse("ok <tool_call>{not json}</tool_call> more", 4, tools=True, thinking=False)
    assert parts == [ReplyText("ok")]
    assert "not JSON" in parser.malformed


def test_an_unfinished_call_is_kept_when_it_parses():
    parts, parser = parse('<tool_call>{"name": "f", "arguments": {"x": 1}}', 5, tools=True, thinking=False)
    assert parts == [FunctionCall("f", {"x": 1})]
    assert parser.malformed is None


def test_a_thought_cut_by_max_tokens_stays_a_thought():
    parts, _ = parse("\nstill thinking", 3, tools=False, thinking=True, in_thought=True)
    assert parts == [ReplyText("still thinking", thought=True)]
