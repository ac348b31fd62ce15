"""The prompt's subject: nouns of many languages matched to OpenMoji pictures."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banatie.providers.local.subjects import find_subjects, main_subjects, svg_bytes


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("a red fox in a snowy forest", "fox"),
        ("un renard roux dans une forêt enneigée", "fox"),
        ("ein roter Fuchs im verschneiten Wald", "fox"),
        ("un zorro rojo en un bosque nevado", "fox"),
        ("una volpe rossa nella neve", "fox"),
        ("uma raposa vermelha na neve", "fox"),
        ("рыжая лиса в заснеженном лесу", "fox"),
        ("雪の森の赤いキツネ", "fox"),
        ("a cat wearing a hat on the beach", "cat"),
        ("рыжий кот в шляпе на крыше", "cat"),
        ("帽子をかぶった猫が海辺にいる", "cat"),
        ("一只戴着帽子的猫在海滩上", "cat"),
        ("모자를 쓴 고양이가 해변에 있다", "cat"),
        ("kot w kapeluszu na plaży", "cat"),
        ("a photo of a dog", "dog"),
        ("a sports car", "automobile"),
        ("hot dog with mustard", "hot_dog"),
        ("two penguins on ice", "penguin"),
        ("astronaut riding a horse", "astronaut"),
        ("a robot in a city", "robot"),
        ("a castle on a hill", "castle"),
    ],
)
def test_the_subject_is_found_in_many_languages(prompt: str, name: str) -> None:
    subjects = main_subjects(prompt, limit=1)
    assert [s.name for s in subjects] == [name]
    assert svg_bytes(subjects[0].char).startswith(b"<svg")


@pytest.mark.parametrize(
    "prompt", ["city at night", "sunset over the sea", "a green forest in spring", "red abstract"]
)
def test_a_scene_alone_has_no_subject(prompt: str) -> None:
    # the landscape shows the sea, the forest and the night: no icon on top of them
    assert main_subjects(prompt) == []


def test_colour_and_function_words_are_not_subjects() -> None:
    assert [s.name for s in find_subjects("ein roter Fuchs")] == ["fox"]
    assert [s.name for s in find_subjects("the red one over there")] == []


def test_negative_prompt_removes_a_subject() -> None:
    assert [s.name for s in main_subjects("a cat and a dog", limit=2)] == ["cat", "dog"]
    assert [s.name for s in main_subjects("a cat and a dog", exclude="cats")] == ["dog"]


def test_aliases_are_not_read_as_nouns() -> None:
    assert main_subjects("@fox on a poster") == []


@given(st.text(max_size=80))
def test_any_text_gives_subjects_in_prompt_order(text: str) -> None:
    found = find_subjects(text)
    positions = [s.position for s in found]
    assert positions == sorted(positions)
    assert len({s.char for s in found}) == len(found)
