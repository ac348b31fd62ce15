"""Alias parsing: what counts as `@name` in a prompt and what may be assigned."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banatie.errors import ValidationError
from banatie.images.aliases import aliases_in_prompt, normalize_alias

names = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,20}", fullmatch=True)


def test_aliases_in_prompt_order_and_repeats() -> None:
    prompt = "@hero on a wall, next to @logo and @hero again; mail me@example.com"
    assert aliases_in_prompt(prompt) == ["@hero", "@logo"]


def test_alias_must_follow_whitespace_or_start() -> None:
    assert aliases_in_prompt("@a\t@b\n@c x@d (@e)") == ["@a", "@b", "@c"]


@given(words=st.lists(names, min_size=1, max_size=5), filler=st.sampled_from([" ", "  ", "\n"]))
def test_every_spaced_alias_is_found(words: list[str], filler: str) -> None:
    prompt = filler.join(f"@{word}" for word in words)
    expected = list(dict.fromkeys(f"@{word}" for word in words))
    assert aliases_in_prompt(prompt) == expected


@given(name=names)
def test_normalize_accepts_with_and_without_at(name: str) -> None:
    if f"@{name}" in {"@last", "@first", "@upload"}:
        return
    assert normalize_alias(name) == normalize_alias(f"@{name}") == f"@{name}"


@pytest.mark.parametrize("bad", ["", "@", "two words", "@a.b", "@" + "x" * 100, "@last", "@upload"])
def test_normalize_refuses(bad: str) -> None:
    with pytest.raises(ValidationError):
        normalize_alias(bad)
