"""The embedded prompt enhancer: deterministic rules, no network, no keys.

It keeps the user's words (offline it cannot translate), adds the template's descriptive
guidance (skipping what the prompt already says, e.g. no "natural lighting" for a prompt that
asks for neon light), the namespace style ("Style: ..."), the namespace system prompt's rules
("always use teal" -> "Use teal."; "never show people" -> "Avoid: people."), reference-image
guidance and the aspect ratio's composition. `@alias` tokens pass through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from banatie.providers.local.language import LANGUAGE_NAMES, detect_language
from banatie.providers.ports import (
    ASPECT_RATIO_SIZES,
    TEMPLATES,
    EnhancedPrompt,
    EnhancementRequest,
)


@dataclass(frozen=True)
class Fragment:
    text: str
    # Skip the fragment when the prompt already covers (or contradicts) it.
    covered_by: str | None = None

    def covered(self, prompt: str) -> bool:
        lowered = prompt.lower()
        if self.text.lower() in lowered:
            return True
        return self.covered_by is not None and re.search(self.covered_by, lowered) is not None


_LIGHT = r"\blight(s|ing)?\b|\blit\b|\bneon\b|\bglow"
_COLOURS = r"\bcolou?rs?\b|\bpalette\b|\bmonochrome\b|\bblack and white\b"

TEMPLATE_GUIDANCE: dict[str, tuple[Fragment, ...]] = {
    "general": (
        Fragment("high-quality image", r"\bquality\b"),
        Fragment("clear focal subject"),
        Fragment("balanced composition", r"\bcomposition\b"),
        Fragment("coherent lighting", _LIGHT),
        Fragment("fine detail", r"\bdetail"),
    ),
    "photorealistic": (
        Fragment("photorealistic photograph", r"photo-?realis|\bphotograph"),
        Fragment("natural lighting", _LIGHT + r"|\bstudio\b"),
        Fragment("50mm lens", r"\b\d+\s?mm\b|\blens\b"),
        Fragment("shallow depth of field", r"depth of field|\bbokeh\b|\bdof\b"),
        Fragment("high detail", r"\bdetail"),
        Fragment("realistic textures", r"\btextur"),
    ),
    "illustration": (
        Fragment("digital illustration", r"illustrat|\bdrawing\b|\bpainting\b|\bvector\b"),
        Fragment("clean confident linework", r"line ?work|\blines\b"),
        Fragment("rich harmonious colour palette", _COLOURS),
        Fragment("soft painterly shading", r"\bshading\b"),
    ),
    "minimalist": (
        Fragment("minimalist composition", r"\bminimal"),
        Fragment("generous negative space", r"negative space"),
        Fragment("limited colour palette", _COLOURS),
        Fragment("clean simple shapes"),
        Fragment("soft even lighting", _LIGHT),
    ),
    "sticker": (
        Fragment("die-cut sticker", r"\bstickers?\b"),
        Fragment("bold outlines", r"\boutlines?\b"),
        Fragment("white border", r"\bborder\b"),
        Fragment("transparent background", r"\bbackground\b"),
        Fragment("vibrant flat colours", _COLOURS),
        Fragment("single centred subject"),
    ),
    "product": (
        Fragment("professional product photograph", r"product (photo|shot)"),
        Fragment("studio softbox lighting", _LIGHT),
        Fragment("clean seamless background", r"\bbackground\b"),
        Fragment("sharp focus on the product", r"\bfocus\b"),
        Fragment("soft natural shadows", r"\bshadows?\b"),
        Fragment("commercial catalogue quality"),
    ),
    "comic": (
        Fragment("comic book panel", r"\bcomic"),
        Fragment("bold ink outlines", r"\boutlines?\b|\binks?\b"),
        Fragment("halftone dot shading", r"\bhalftone\b"),
        Fragment("dynamic camera angle", r"\bangle\b"),
        Fragment("vivid flat colours", _COLOURS),
    ),
}

COMPOSITION: dict[str, str] = {
    "1:1": "square 1:1 composition with the subject centred",
    "2:3": "portrait 2:3 composition, vertical framing",
    "3:2": "landscape 3:2 composition, classic photographic framing",
    "3:4": "portrait 3:4 composition, vertical framing",
    "4:3": "landscape 4:3 composition",
    "4:5": "portrait 4:5 composition, suited to social feeds",
    "5:4": "landscape 5:4 composition",
    "9:16": "tall vertical 9:16 composition, suited to mobile screens and stories",
    "16:9": "wide 16:9 composition, cinematic framing",
    "21:9": "ultra-wide 21:9 panoramic composition",
}

_KEEP_REFERENCES = "Keep the referenced images recognisable: same shapes, colours and text"
_USE_REFERENCES_RE = re.compile(r"Use the reference images? (?:@[\w-]+(?:, )?)+\.?")
_WS_RE = re.compile(r"\s+")
_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
_ALIAS_IN_TEXT_RE = re.compile(r"(?:^|\s)(@[\w-]+)")
# Leads the sentence that carries a flow's subject into its next step (banatie.flows.memory).
_FLOW_MEMORY = "Same subject, palette and style as earlier in this flow:"


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".;, ")
    return text[:1].upper() + text[1:] if text else text


def _aliases(prompt: str, reference_aliases: Sequence[str]) -> list[str]:
    """Reference aliases not already written in the prompt, as `@name`, de-duplicated."""
    in_prompt = {m.lower() for m in _ALIAS_IN_TEXT_RE.findall(prompt)}
    out: list[str] = []
    for alias in reference_aliases:
        alias = alias.strip()
        if not alias:
            continue
        token = alias if alias.startswith("@") else f"@{alias}"
        if token.lower() not in in_prompt and token not in out:
            out.append(token)
    return out


def _flow_anchor(prompts: Sequence[str]) -> str | None:
    """The oldest earlier prompt that says more than its `@aliases`, without them."""
    for prompt in prompts:
        words = _WS_RE.sub(" ", _ALIAS_IN_TEXT_RE.sub(" ", prompt)).strip(" .;,")
        if words:
            return words
    return None


def strip_guidance(prompt: str) -> str:
    """The prompt without the sentences this enhancer adds (template guidance, composition,
    reference hints): what is left is the user's subject and the namespace style. The local
    synthesizer reads its colour and mood words from this, so "white border" (sticker) or
    "landscape 4:3 composition" do not steer the picture."""
    phrases = [f.text for fragments in TEMPLATE_GUIDANCE.values() for f in fragments]
    phrases += [*COMPOSITION.values(), _KEEP_REFERENCES, _FLOW_MEMORY]
    text = _USE_REFERENCES_RE.sub(" ", prompt)
    for phrase in sorted(phrases, key=len, reverse=True):
        text = re.sub(re.escape(phrase), " ", text, flags=re.IGNORECASE)
    text = re.sub(r"(?:\s*[.,]){2,}\s*", ". ", text)  # the separators left behind
    return _WS_RE.sub(" ", text).strip(" ,")


_STYLE_RE = re.compile(r"(?:^|(?<=\s))Style:\s*([^.]*)\.?", re.IGNORECASE)
_AVOID_RE = re.compile(r"(?:^|(?<=\s))Avoid:\s*([^.]*)\.?", re.IGNORECASE)


_RULE_SPLIT_RE = re.compile(r"(?<=[.!?;])\s+|\n+|^\s*[-*•]\s*", re.MULTILINE)
_NEGATIVE_RULE_RE = re.compile(
    r"^(?:never|avoid|don['’]?t|do not|must not|mustn['’]t|no|without|exclude)\b\s*"
    r"(?:(?:show|include|use|add|draw|depict|put|render|have|any|ever)\b\s*)*(.+)$",
    re.IGNORECASE,
)
_POSITIVE_RULE_RE = re.compile(
    r"^(?:always\s+|(?:you\s+)?(?:must|should)\s+)?"
    r"((?:keep|make|use|include|add|show|prefer|ensure|feature|give|place|put|set|draw)\b.+)$",
    re.IGNORECASE,
)
# Rules about the enhancer's own writing, which rules cannot follow (an LLM enhancer does).
_ABOUT_WRITING_RE = re.compile(
    r"\btranslat|\bprompts?\b|\brespond|\banswer|\bjson\b|\bwords?\b|\bsentences?\b|"
    r"\byou are\b|\bas an?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SystemRules:
    add: tuple[str, ...]  # sentences the prompt gains ("Keep the mascot friendly")
    avoid: tuple[str, ...]  # things the picture must not show ("people", "text")
    skipped: tuple[str, ...]  # rules only an LLM enhancer can follow


def read_system_prompt(system_prompt: str | None) -> SystemRules:
    """A namespace's enhancer instructions, as far as rules can follow them: "never/avoid/no X"
    becomes a thing to avoid, "always/must X", "use/keep/include X" a sentence of the prompt;
    rules about how to write the prompt (translate, length, tone of voice) need an LLM."""
    add: list[str] = []
    avoid: list[str] = []
    skipped: list[str] = []
    for raw in _RULE_SPLIT_RE.split(system_prompt or ""):
        rule = _WS_RE.sub(" ", raw or "").strip().rstrip(".!;")
        if not rule:
            continue
        if _ABOUT_WRITING_RE.search(rule):
            skipped.append(rule)
        elif negative := _NEGATIVE_RULE_RE.match(rule):
            avoid.append(negative.group(1).strip())
        elif positive := _POSITIVE_RULE_RE.match(rule):
            add.append(_sentence(positive.group(1)))
        else:
            skipped.append(rule)
    return SystemRules(tuple(add), tuple(avoid), tuple(skipped))


def split_directives(text: str) -> tuple[str, str | None, str]:
    """(the user's words, the "Style:" sentence's style, the "Avoid:" sentence's things) of a
    prompt this enhancer wrote; a plain prompt comes back as it is."""
    styles = [m.strip() for m in _STYLE_RE.findall(text) if m.strip()]
    avoid = [m.strip() for m in _AVOID_RE.findall(text) if m.strip()]
    words = _AVOID_RE.sub(" ", _STYLE_RE.sub(" ", text))
    return _WS_RE.sub(" ", words).strip(" ,"), ", ".join(styles) or None, ", ".join(avoid)


def enhance_prompt(request: EnhancementRequest) -> EnhancedPrompt:
    if request.template not in TEMPLATE_GUIDANCE:
        raise ValueError(
            f"unknown template {request.template!r}; valid templates: {', '.join(TEMPLATES)}"
        )
    if request.aspect_ratio not in ASPECT_RATIO_SIZES:
        raise ValueError(
            f"unknown aspect ratio {request.aspect_ratio!r}; "
            f"valid aspect ratios: {', '.join(ASPECT_RATIO_SIZES)}"
        )
    subject = _WS_RE.sub(" ", request.prompt).strip()
    if not subject:
        raise ValueError("prompt is empty")

    detection = detect_language(subject)
    language = detection.language
    notes: list[str] = []
    name = LANGUAGE_NAMES.get(language, language)
    how = f"{detection.script} script" if detection.script != "latin" else "common words"
    if not detection.confident:
        notes.append("Language: no clear signal, assumed English (en).")
    elif language == "en":
        notes.append("Language: English (en).")
    else:
        notes.append(
            f"Language: {name} ({language}), detected from {how}. The prompt keeps the "
            "original wording: the offline rule-based enhancer cannot translate."
        )

    subject_text = subject.rstrip(" .;,")
    parts = [subject_text]
    anchor = _flow_anchor(request.flow_prompts)
    if anchor:
        # The flow's first words that describe something: they name its subject and scene.
        parts.append(f"{_FLOW_MEMORY} {anchor}")
        notes.append(
            f"Flow: kept the subject of the earliest of {len(request.flow_prompts)} earlier "
            "prompt(s)"
            + (
                f"; the latest image shows {request.last_description}."
                if request.last_description
                else "."
            )
        )
    all_fragments = TEMPLATE_GUIDANCE[request.template]
    kept = [f.text for f in all_fragments if not f.covered(subject)]
    skipped = [f.text for f in all_fragments if f.covered(subject)]
    if kept:
        parts.append(_sentence(", ".join(kept)))
    template_note = f"Template '{request.template}': added {', '.join(kept) or 'nothing'}"
    if skipped:
        template_note += f" (skipped, already in the prompt: {', '.join(skipped)})"
    notes.append(template_note + ".")

    style = _WS_RE.sub(" ", request.style or "").strip()
    if style:
        parts.append(f"Style: {style.rstrip(' .')}")
        notes.append("Applied the namespace style.")

    rules = read_system_prompt(request.system_prompt)
    parts.extend(rules.add)
    if rules.avoid:
        parts.append(f"Avoid: {', '.join(rules.avoid)}")
    if rules.add or rules.avoid:
        notes.append(
            f"Applied {len(rules.add) + len(rules.avoid)} rule(s) of the namespace's system prompt."
        )
    if rules.skipped:
        notes.append("Not applied (they need an LLM enhancer): " + "; ".join(rules.skipped) + ".")

    extra_refs = _aliases(subject, request.reference_aliases)
    written_refs = _ALIAS_IN_TEXT_RE.findall(subject)
    if extra_refs or written_refs:
        if extra_refs:
            plural = "s" if len(extra_refs) > 1 else ""
            parts.append(f"Use the reference image{plural} {', '.join(extra_refs)}")
        parts.append(_KEEP_REFERENCES)
        notes.append("Asked the model to keep reference images faithful.")

    parts.append(_sentence(COMPOSITION[request.aspect_ratio]))
    notes.append(f"Composition for {request.aspect_ratio}.")

    prompt = " ".join(p if p.endswith(_SENTENCE_END) else p + "." for p in parts)
    return EnhancedPrompt(
        prompt=prompt,
        language=language,
        rationale="Rule-based enhancement (offline). " + " ".join(notes),
        enhancer="rules",
    )


class RuleBasedEnhancer:
    """Deterministic embedded PromptEnhancer (DESIGN.md §1)."""

    name = "rules"

    async def enhance(self, request: EnhancementRequest) -> EnhancedPrompt:
        # Pure string work on a short prompt: cheap enough for the event loop.
        return enhance_prompt(request)


__all__ = [
    "COMPOSITION",
    "TEMPLATE_GUIDANCE",
    "RuleBasedEnhancer",
    "SystemRules",
    "enhance_prompt",
    "read_system_prompt",
    "split_directives",
    "strip_guidance",
]
