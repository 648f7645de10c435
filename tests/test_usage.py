import math

from hypothesis import given
from hypothesis import strategies as st

from agentcost_nb.client.types import ReportedUsage
from agentcost_nb.usage import (
    UsageTally,
    add_usage,
    adk_usage,
    model_from_metadata,
    total_usage,
    usage_from_metadata,
)


def test_adk_usage_basic():
    meta = {
        "adk_usage_metadata": {
            "promptTokenCount": 10,
            "candidatesTokenCount": 9,
            "totalTokenCount": 19,
        }
    }
    assert usage_from_metadata(meta) == ReportedUsage(input_tokens=10, output_tokens=9)


def test_adk_usage_gemini_semantics_cached_and_thoughts():
    # Prompt includes cached; thoughts are billed as output beside candidates.
    meta = {
        "adk_usage_metadata": {
            "promptTokenCount": 100,
            "cachedContentTokenCount": 40,
            "candidatesTokenCount": 20,
            "thoughtsTokenCount": 30,
            "totalTokenCount": 150,
        }
    }
    assert usage_from_metadata(meta) == ReportedUsage(
        input_tokens=100, output_tokens=50, cached_input_tokens=40, reasoning_tokens=30
    )


def test_adk_usage_snake_case_and_tool_prompt():
    meta = {
        "adk_usage_metadata": {
            "prompt_token_count": 7,
            "candidates_token_count": 3,
            "tool_use_prompt_token_count": 5,
        }
    }
    assert usage_from_metadata(meta) == ReportedUsage(input_tokens=12, output_tokens=3)


def test_whole_floats_from_protobuf_struct_are_accepted():
    # a2a-sdk sends metadata as a protobuf Struct: 10 arrives as 10.0.
    meta = {"adk_usage_metadata": {"promptTokenCount": 10.0, "candidatesTokenCount": 9.0}}
    assert usage_from_metadata(meta) == ReportedUsage(input_tokens=10, output_tokens=9)
    assert isinstance(usage_from_metadata(meta).input_tokens, int)


def test_usage_object_input_output():
    meta = {"usage": {"input_tokens": 2, "output_tokens": 3}}
    assert usage_from_metadata(meta) == ReportedUsage(input_tokens=2, output_tokens=3)


def test_usage_object_openai_style_with_details():
    meta = {
        "usage": {
            "prompt_tokens": 50,
            "completion_tokens": 20,
            "prompt_tokens_details": {"cached_tokens": 10},
            "completion_tokens_details": {"reasoning_tokens": 5},
        }
    }
    assert usage_from_metadata(meta) == ReportedUsage(
        input_tokens=50, output_tokens=20, cached_input_tokens=10, reasoning_tokens=5
    )


def test_usage_object_anthropic_style_adds_cache_reads_and_writes_to_input():
    meta = {
        "usage": {
            "input_tokens": 10,
            "output_tokens": 4,
            "cache_read_input_tokens": 30,
            "cache_creation_input_tokens": 5,
        }
    }
    assert usage_from_metadata(meta) == ReportedUsage(
        input_tokens=45, output_tokens=4, cached_input_tokens=30
    )


def test_adk_wins_over_usage_object():
    meta = {
        "adk_usage_metadata": {"promptTokenCount": 1, "candidatesTokenCount": 2},
        "usage": {"input_tokens": 100, "output_tokens": 200},
    }
    assert usage_from_metadata(meta) == ReportedUsage(input_tokens=1, output_tokens=2)


def test_nothing_reported_gives_none():
    assert usage_from_metadata(None) is None
    assert usage_from_metadata({}) is None
    assert usage_from_metadata({"model": "x"}) is None
    assert usage_from_metadata({"usage": {}}) is None
    assert usage_from_metadata({"adk_usage_metadata": {"totalTokenCount": 5}}) is None
    assert usage_from_metadata("not a mapping") is None  # type: ignore[arg-type]


def test_garbage_counts_give_none():
    for bad in (-1, 1.5, True, False, math.nan, math.inf, "10", [1], {"n": 1}):
        assert usage_from_metadata({"usage": {"input_tokens": bad, "output_tokens": 1}}) is None, (
            bad
        )
        assert usage_from_metadata({"adk_usage_metadata": {"promptTokenCount": bad}}) is None, bad


def test_impossible_subsets_give_none():
    assert (
        usage_from_metadata(
            {
                "usage": {
                    "prompt_tokens": 5,
                    "completion_tokens": 1,
                    "prompt_tokens_details": {"cached_tokens": 6},
                }
            }
        )
        is None
    )
    assert (
        usage_from_metadata(
            {
                "usage": {
                    "prompt_tokens": 5,
                    "completion_tokens": 1,
                    "completion_tokens_details": {"reasoning_tokens": 2},
                }
            }
        )
        is None
    )
    assert (
        usage_from_metadata(
            {"usage": {"input_tokens": 5, "output_tokens": 1, "prompt_tokens_details": "x"}}
        )
        is None
    )


def test_model_from_metadata():
    assert model_from_metadata({"model": "demo-sum-2"}) == "demo-sum-2"
    assert model_from_metadata({"model": "  gpt-x  "}) == "gpt-x"
    assert model_from_metadata({"modelVersion": "gemini-2.5-flash"}) == "gemini-2.5-flash"
    assert model_from_metadata({"model": ""}) is None
    assert model_from_metadata({"model": 3}) is None
    assert model_from_metadata(None) is None
    assert len(model_from_metadata({"model": "m" * 1000}) or "") == 200


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 10**12)
    | st.floats(allow_nan=True)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "input_tokens",
                    "output_tokens",
                    "prompt_tokens",
                    "completion_tokens",
                    "cached_tokens",
                    "reasoning_tokens",
                    "prompt_tokens_details",
                    "completion_tokens_details",
                    "cache_read_input_tokens",
                    "promptTokenCount",
                    "candidatesTokenCount",
                    "thoughtsTokenCount",
                    "cachedContentTokenCount",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@given(adk=_json, usage=_json)
def test_never_raises_and_results_are_consistent(adk, usage):
    found = usage_from_metadata({"adk_usage_metadata": adk, "usage": usage})
    if found is not None:
        for value in (
            found.input_tokens,
            found.output_tokens,
            found.cached_input_tokens,
            found.reasoning_tokens,
        ):
            assert type(value) is int and value >= 0
        assert found.cached_input_tokens <= found.input_tokens
        assert found.reasoning_tokens <= found.output_tokens


# ------------------------------------------------------- over the events of a stream


def _adk(prompt: int, candidates: int) -> dict:
    return {"adk_usage_metadata": {"promptTokenCount": prompt, "candidatesTokenCount": candidates}}


def test_tally_adds_per_call_adk_counts_once_per_event():
    tally = UsageTally()
    tally.event(_adk(10, 2))
    # One event carrying the same call's counts twice (event and its message) is one call.
    tally.event(_adk(10, 3), _adk(10, 3))
    tally.event({"model": "gemini-x"}, None)
    assert tally.usage == ReportedUsage(input_tokens=20, output_tokens=5)
    assert tally.model == "gemini-x" and tally.reported


def test_tally_takes_the_last_usage_total_and_adk_wins_when_both_come():
    tally = UsageTally()
    for so_far in (1, 2, 3):
        tally.event({"usage": {"input_tokens": 4, "output_tokens": so_far}})
    assert tally.usage == ReportedUsage(input_tokens=4, output_tokens=3)  # not 4+4+4 / 6
    tally.event(_adk(1, 1))
    assert tally.usage == ReportedUsage(input_tokens=1, output_tokens=1)
    empty = UsageTally()
    empty.event(None, {}, {"usage": "garbage"})
    assert empty.usage is None and not empty.reported


def test_adk_and_total_usage_read_one_convention_each():
    both = {**_adk(5, 1), "usage": {"input_tokens": 9, "output_tokens": 9}}
    assert adk_usage(both) == ReportedUsage(input_tokens=5, output_tokens=1)
    assert total_usage(both) == ReportedUsage(input_tokens=9, output_tokens=9)
    assert adk_usage({"adk_usage_metadata": {"promptTokenCount": -1}}) is None
    assert total_usage({"usage": {"input_tokens": True}}) is None
    assert adk_usage(None) is None and total_usage("x") is None  # type: ignore[arg-type]
    assert add_usage(ReportedUsage(1, 2, 1, 1), ReportedUsage(3, 4, 0, 2)) == ReportedUsage(
        4, 6, 1, 3
    )
