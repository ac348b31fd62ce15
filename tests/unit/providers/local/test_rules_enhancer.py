"""The rule-based enhancer and its offline language detection."""

from __future__ import annotations

import pytest

from banatie.providers.local.enhancer import RuleBasedEnhancer, split_directives, strip_guidance
from banatie.providers.local.language import detect_language
from banatie.providers.local.scene import read_cues
from banatie.providers.ports import (
    ASPECT_RATIO_SIZES,
    TEMPLATES,
    EnhancementRequest,
)

TEMPLATE_MARKERS = {
    "general": "balanced composition",
    "photorealistic": "photorealistic photograph, natural lighting, 50mm lens",
    "illustration": "digital illustration",
    "minimalist": "negative space",
    "sticker": "die-cut sticker, bold outlines, white border, transparent background",
    "product": "studio softbox lighting",
    "comic": "halftone",
}


@pytest.fixture
def enhancer() -> RuleBasedEnhancer:
    return RuleBasedEnhancer()


def test_every_template_has_guidance() -> None:
    assert set(TEMPLATE_MARKERS) == set(TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES)
async def test_templates(enhancer: RuleBasedEnhancer, template: str) -> None:
    request = EnhancementRequest("a fox in the snow", template=template, aspect_ratio="16:9")
    result = await enhancer.enhance(request)
    assert result.prompt.startswith("a fox in the snow.")
    assert TEMPLATE_MARKERS[template] in result.prompt.lower()
    assert "wide 16:9 composition" in result.prompt.lower()
    assert result.language == "en"
    assert result.enhancer == "rules"
    assert template in result.rationale
    assert await enhancer.enhance(request) == result  # deterministic


async def test_templates_differ(enhancer: RuleBasedEnhancer) -> None:
    prompts = {
        (await enhancer.enhance(EnhancementRequest("a fox", template=t))).prompt for t in TEMPLATES
    }
    assert len(prompts) == len(TEMPLATES)


async def test_unknown_template_lists_valid_ones(enhancer: RuleBasedEnhancer) -> None:
    with pytest.raises(ValueError) as info:
        await enhancer.enhance(EnhancementRequest("a fox", template="vaporwave"))
    message = str(info.value)
    assert "vaporwave" in message
    for template in TEMPLATES:
        assert template in message


async def test_unknown_aspect_ratio(enhancer: RuleBasedEnhancer) -> None:
    with pytest.raises(ValueError, match="aspect ratio"):
        await enhancer.enhance(EnhancementRequest("a fox", aspect_ratio="7:3"))


async def test_empty_prompt(enhancer: RuleBasedEnhancer) -> None:
    with pytest.raises(ValueError, match="empty"):
        await enhancer.enhance(EnhancementRequest("   "))


@pytest.mark.parametrize(
    ("aspect_ratio", "phrase"),
    [
        ("1:1", "square 1:1"),
        ("9:16", "vertical 9:16"),
        ("21:9", "ultra-wide 21:9"),
        ("2:3", "portrait 2:3"),
        ("3:2", "landscape 3:2"),
    ],
)
async def test_composition_follows_aspect_ratio(
    enhancer: RuleBasedEnhancer, aspect_ratio: str, phrase: str
) -> None:
    result = await enhancer.enhance(EnhancementRequest("a fox", aspect_ratio=aspect_ratio))
    assert phrase in result.prompt.lower()


async def test_style_and_system_prompt(enhancer: RuleBasedEnhancer) -> None:
    result = await enhancer.enhance(
        EnhancementRequest(
            "a fox",
            style="flat pastel vector art, brand colours teal and coral",
            system_prompt=(
                "You are the ACME brand designer. Always keep the brand mascot friendly. "
                "Never show people; no text.\n- Translate prompts to English"
            ),
        )
    )
    assert "Style: flat pastel vector art, brand colours teal and coral." in result.prompt
    assert "Keep the brand mascot friendly." in result.prompt
    assert "Avoid: people, text." in result.prompt
    assert "ACME" not in result.prompt and "Translate" not in result.prompt
    assert "Not applied" in result.rationale and "Translate prompts" in result.rationale


async def test_system_prompt_rules_reach_the_local_picture(enhancer: RuleBasedEnhancer) -> None:
    result = await enhancer.enhance(
        EnhancementRequest("a fox in the snow", style="pastel", system_prompt="Avoid snow.")
    )
    words, style, avoid = split_directives(strip_guidance(result.prompt))
    assert words == "a fox in the snow."
    assert style == "pastel"
    assert avoid == "snow"


async def test_aliases_stay_intact(enhancer: RuleBasedEnhancer) -> None:
    result = await enhancer.enhance(
        EnhancementRequest(
            "put @logo on a mug next to @brand-mascot_2",
            template="product",
            reference_aliases=("logo", "@brand-mascot_2", "hero"),
        )
    )
    assert result.prompt.startswith("put @logo on a mug next to @brand-mascot_2.")
    assert "Use the reference image @hero." in result.prompt
    assert result.prompt.count("@logo") == 1


async def test_skips_guidance_the_prompt_already_gives(enhancer: RuleBasedEnhancer) -> None:
    result = await enhancer.enhance(
        EnhancementRequest("portrait in neon lighting, 85mm, bokeh", template="photorealistic")
    )
    assert "natural lighting" not in result.prompt
    assert "50mm" not in result.prompt
    assert "shallow depth of field" not in result.prompt
    assert "photorealistic photograph" in result.prompt.lower()
    assert "skipped" in result.rationale


async def test_keeps_non_english_words_and_says_why(enhancer: RuleBasedEnhancer) -> None:
    result = await enhancer.enhance(
        EnhancementRequest("рыжий кот в шляпе на крыше", template="illustration")
    )
    assert result.language == "ru"
    assert result.prompt.startswith("рыжий кот в шляпе на крыше.")
    assert "translate" in result.rationale
    assert "Russian" in result.rationale


async def test_english_rationale_does_not_mention_translation(
    enhancer: RuleBasedEnhancer,
) -> None:
    result = await enhancer.enhance(EnhancementRequest("a red fox on a hill"))
    assert "translate" not in result.rationale


async def test_question_or_exclamation_prompt_punctuation(enhancer: RuleBasedEnhancer) -> None:
    result = await enhancer.enhance(EnhancementRequest("What a day!"))
    assert result.prompt.startswith("What a day! ")
    assert "!." not in result.prompt


@pytest.mark.parametrize(
    ("prompt", "language"),
    [
        ("a cat wearing a hat on the beach", "en"),
        ("кот в шляпе сидит на пляже", "ru"),
        ("кіт у капелюсі сидить на пляжі", "uk"),
        ("un gato con sombrero en la playa", "es"),
        ("un chat avec un chapeau sur la plage", "fr"),
        ("eine Katze mit Hut am Strand", "de"),
        ("un gatto con il cappello sulla spiaggia", "it"),
        ("um gato de chapéu na praia", "pt"),
        ("一只戴着帽子的猫在海滩上", "zh"),
        ("帽子をかぶった猫が海辺にいる", "ja"),
        ("모자를 쓴 고양이가 해변에 있다", "ko"),
        ("قطة ترتدي قبعة على الشاطئ", "ar"),
        ("گربه ای با کلاه در ساحل", "fa"),
        ("חתול עם כובע על החוף", "he"),
        ("μια γάτα με καπέλο στην παραλία", "el"),
        ("समुद्र तट पर टोपी पहने एक बिल्ली", "hi"),
        ("แมวใส่หมวกบนชายหาด", "th"),
        ("kot w kapeluszu na plaży", "pl"),
        ("plajda şapkalı bir kedi", "tr"),
        ("een kat met een hoed op het strand", "nl"),
        ("@logo на футболке", "ru"),
        ("@logo", "en"),
    ],
)
def test_language_detection(prompt: str, language: str) -> None:
    assert detect_language(prompt).language == language


def test_alias_tokens_do_not_sway_detection() -> None:
    assert detect_language("@brand-logo-wide-banner-version-two кот").language == "ru"


@pytest.mark.parametrize("template", TEMPLATES)
async def test_strip_guidance_leaves_the_users_words(
    enhancer: RuleBasedEnhancer, template: str
) -> None:
    for aspect_ratio in ASPECT_RATIO_SIZES:
        result = await enhancer.enhance(
            EnhancementRequest(
                "a fox @logo in the snow",
                template=template,
                aspect_ratio=aspect_ratio,
                style="brand teal",
                reference_aliases=("logo", "hero"),
            )
        )
        assert strip_guidance(result.prompt) == "a fox @logo in the snow. Style: brand teal."


async def test_guidance_does_not_steer_the_local_picture(enhancer: RuleBasedEnhancer) -> None:
    # "white border" (sticker) and "landscape 4:3 composition" are not the user's words
    result = await enhancer.enhance(
        EnhancementRequest("a fox", template="sticker", aspect_ratio="4:3")
    )
    assert read_cues(strip_guidance(result.prompt)) == read_cues("a fox")
    assert read_cues(result.prompt) != read_cues("a fox")
