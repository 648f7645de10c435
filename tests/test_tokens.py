from agentcost_nb.tokens import count_tokens, estimate_tokens


def test_estimate_is_close_to_bpe_on_english_and_never_zero():
    # cl100k_base gives 11 tokens for this sentence.
    assert estimate_tokens("hello there, how are you doing today my friend?") == 11
    assert estimate_tokens("internationalization") == 4
    assert estimate_tokens("!") == 1
    assert estimate_tokens("你好世界") == 4
    assert estimate_tokens("") == 0


def test_count_falls_back_to_an_estimate_offline_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # empty cache: no tokenizer files
    from agentcost_nb import tokens

    tokens._offline_encoding.cache_clear()
    n, source = count_tokens("a reply with several words")
    assert (n, source) == (estimate_tokens("a reply with several words"), "estimated")
    assert n > 0
    tokens._offline_encoding.cache_clear()
