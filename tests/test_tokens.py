import pytest

from agentcost_nb import tokens
from agentcost_nb.tokens import count_tokens, estimate_tokens


@pytest.fixture
def fresh_tokenizer():
    tokens._offline_encoding.cache_clear()
    yield
    tokens._offline_encoding.cache_clear()


def test_estimate_is_close_to_bpe_on_english_and_never_zero():
    # cl100k_base gives 11 tokens for this sentence.
    assert estimate_tokens("hello there, how are you doing today my friend?") == 11
    assert estimate_tokens("internationalization") == 4
    assert estimate_tokens("!") == 1
    assert estimate_tokens("你好世界") == 4
    assert estimate_tokens("") == 0


def test_counts_with_the_bundled_tokenizer_offline(fresh_tokenizer, monkeypatch, tmp_path):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # nothing cached, no network
    n, source = count_tokens("hello there, how are you doing today my friend?")
    assert (n, source) == (11, "counted")
    assert count_tokens("The quick brown fox jumps over the lazy dog.") == (10, "counted")


def test_without_a_tokenizer_it_estimates_and_says_so(fresh_tokenizer, monkeypatch):
    monkeypatch.setenv("AGENTCOST_NB_TOKENIZER", "estimate")
    text = "a reply with several words"
    n, source = count_tokens(text)
    assert (n, source) == (estimate_tokens(text), "estimated")
    assert n > 0
    assert count_tokens("") == (0, "counted")
