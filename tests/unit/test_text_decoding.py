"""Stop sequences: held back while they might match, never sent, matched across token boundaries."""

from genserve.engines.text_decoding import CandidateText

VOCAB = {1: "Hel", 2: "lo", 3: " wor", 4: "ld", 5: "EN", 6: "D", 7: "!", 8: "\ufffd"}


def decode(tokens):
    return "".join(VOCAB[t] for t in tokens)


def feed(cand, tokens):
    out = []
    for t in tokens:
        out.append(cand.push(t))
        if cand.stopped:
            break
    return out


def test_without_stop_sequences_every_token_is_sent_at_once():
    cand = CandidateText(decode, [])
    assert feed(cand, [1, 2, 3, 4]) == ["Hel", "lo", " wor", "ld"]
    assert cand.flush() == "" and not cand.stopped


def test_stop_sequence_split_over_tokens_is_held_back_and_excluded():
    cand = CandidateText(decode, ["END"])
    deltas = feed(cand, [1, 2, 5, 6, 7])
    assert deltas == ["Hel", "lo", "", ""]  # "EN" held back, then "END" matched: nothing after it
    assert cand.stopped and cand.flush() == ""
    assert "".join(deltas) == "Hello"


def test_held_back_prefix_is_released_when_it_does_not_match():
    cand = CandidateText(decode, ["END"])
    assert feed(cand, [1, 5, 7]) == ["Hel", "", "EN!"]
    assert not cand.stopped


def test_earliest_of_several_stop_sequences_wins():
    cand = CandidateText(decode, ["ld", "wor"])
    assert "".join(feed(cand, [1, 2, 3, 4])) == "Hello "
    assert cand.stopped


def test_incomplete_character_waits_for_the_rest():
    cand = CandidateText(decode, [])
    assert feed(cand, [1, 8]) == ["Hel", ""]
    assert cand.flush() == "\ufffd"  # at the end, whatever is left is sent


def test_a_stop_sequence_ending_in_an_unfinished_character_still_matches():
    cand = CandidateText(decode, ["D\ufffd"])
    assert feed(cand, [1, 6, 8]) == ["Hel", "", ""]  # "D" might start the stop; U+FFFD might be unfinished
    assert cand.flush() == "" and cand.stopped


def test_each_token_is_decoded_in_a_short_window_with_the_token_before_it():
    seen = []

    def spaced(tokens):  # like SentencePiece: a decode drops the leading space of its first word
        seen.append(len(tokens))
        return decode(tokens).lstrip(" ")

    cand = CandidateText(spaced, [])
    text = "".join(feed(cand, [1, 2, 3, 4] * 50)) + cand.flush()
    assert text == "Hello world" * 50  # " wor" keeps its space although a window may start with it
    assert max(seen) <= 2  # the cost of a token does not grow with the answer
