"""Offline language detection for prompts: Unicode script first, then common words.

Returns ISO 639-1 codes. Script alone settles most non-Latin languages (ko, ja, zh, ar, he, el,
hi, th ...); letters peculiar to one language split scripts shared by several (Ukrainian vs Russian,
Persian vs Arabic); Latin-script prompts are scored on function words, frequent
prompt nouns and distinctive diacritics. English is the default when nothing else stands out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "tr": "Turkish", "vi": "Vietnamese",
    "id": "Indonesian", "sv": "Swedish", "cs": "Czech", "ro": "Romanian", "ru": "Russian",
    "uk": "Ukrainian", "be": "Belarusian", "bg": "Bulgarian", "sr": "Serbian",
    "mk": "Macedonian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic",
    "fa": "Persian", "ur": "Urdu", "he": "Hebrew", "el": "Greek", "hi": "Hindi",
    "bn": "Bengali", "ta": "Tamil", "te": "Telugu", "th": "Thai", "ka": "Georgian",
    "hy": "Armenian",
}  # fmt: skip

# (first, last, script); CJK-style scripts pack a word into one or two characters.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "latin"), (0x0061, 0x007A, "latin"), (0x00C0, 0x024F, "latin"),
    (0x1E00, 0x1EFF, "latin"), (0x0370, 0x03FF, "greek"), (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"), (0x0590, 0x05FF, "hebrew"), (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"), (0x08A0, 0x08FF, "arabic"), (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"), (0x0900, 0x097F, "devanagari"), (0x0980, 0x09FF, "bengali"),
    (0x0B80, 0x0BFF, "tamil"), (0x0C00, 0x0C7F, "telugu"), (0x0E00, 0x0E7F, "thai"),
    (0x10A0, 0x10FF, "georgian"), (0x1100, 0x11FF, "hangul"), (0x3130, 0x318F, "hangul"),
    (0xAC00, 0xD7AF, "hangul"), (0x3040, 0x309F, "kana"), (0x30A0, 0x30FF, "kana"),
    (0x31F0, 0x31FF, "kana"), (0xFF66, 0xFF9F, "kana"), (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"), (0xF900, 0xFAFF, "han"),
)  # fmt: skip
_DENSE_SCRIPTS = {"han": 3, "kana": 3, "hangul": 2, "thai": 1}
_SCRIPT_LANGUAGE = {
    "greek": "el", "armenian": "hy", "hebrew": "he", "devanagari": "hi", "bengali": "bn",
    "tamil": "ta", "telugu": "te", "thai": "th", "georgian": "ka", "hangul": "ko",
}  # fmt: skip

# Common words per Latin-script language: function words and frequent image-prompt nouns.
_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the a an of and with in on at to for from by is are this that under over near "
        "while his her its their it cat dog woman man girl boy city photo picture image "
        "portrait logo sunset beach mountain forest sky beautiful red blue green black white "
        "wearing standing sitting holding style background",
        "es": "el la los las un una unos unas y con de del en al por para sobre bajo que es "
        "gato perro mujer hombre niña niño ciudad atardecer playa montaña bosque cielo foto "
        "imagen retrato hermoso hermosa rojo azul negro blanco verde estilo fondo",
        "fr": "le la les un une des et avec de du dans sur sous pour par au aux est chat "
        "chien femme homme fille garçon ville coucher soleil plage montagne forêt ciel photo "
        "image portrait beau belle rouge bleu noir blanc vert style fond",
        "de": "der die das ein eine einen einem einer und mit von im in auf unter über für "
        "ist katze hund frau mann mädchen junge stadt sonnenuntergang strand berg wald "
        "himmel foto bild porträt schön schöne rot blau schwarz weiß grün stil hintergrund",
        "it": "il lo la gli le un una uno e con di del della nel nella sul sulla per è "
        "gatto cane donna uomo ragazza ragazzo città tramonto spiaggia montagna bosco cielo "
        "foto immagine ritratto bello bella rosso blu nero bianco verde stile sfondo",
        "pt": "o a os as um uma e com de do da dos das no na em por para sobre sob é gato "
        "cachorro cão mulher homem menina menino cidade pôr sol praia montanha floresta céu "
        "foto imagem retrato bonito bonita vermelho azul preto branco verde estilo fundo",
        "nl": "de het een en met van in op onder voor is kat hond vrouw man meisje jongen "
        "stad zonsondergang strand berg bos lucht mooi mooie rood blauw zwart wit groen",
        "pl": "i w na z ze pod nad dla jest kot pies kobieta mężczyzna dziewczyna miasto "
        "zachód słońca plaża góra las niebo zdjęcie obraz piękny czerwony niebieski",
        "tr": "bir ve ile bu için üzerinde altında kedi köpek kadın adam kız şehir gün "
        "batımı plaj dağ orman gökyüzü fotoğraf resim güzel kırmızı mavi",
        "vi": "một và với của trong trên dưới là con mèo chó người phụ nữ đàn ông thành "
        "phố hoàng hôn bãi biển núi rừng bầu trời ảnh đẹp đỏ xanh",
        "id": "dan dengan di yang dari untuk ini itu kucing anjing wanita pria kota "
        "matahari terbenam pantai gunung hutan langit foto gambar indah merah biru",
        "sv": "och en ett med på av i under för är katt hund kvinna man stad solnedgång "
        "strand berg skog himmel foto bild vacker röd blå",
        "cs": "a s se v na pod nad pro je kočka pes žena muž město západ slunce pláž hora "
        "les nebe fotka obrázek krásný červený modrý",
        "ro": "și cu de din în pe sub pentru este o un pisică câine femeie bărbat oraș "
        "apus plajă munte pădure cer fotografie imagine frumos roșu albastru",
    }.items()
}
# Tie-break order (most common prompt languages first).
_LATIN_ORDER = ("en", "es", "fr", "de", "pt", "it", "nl", "pl", "tr", "vi", "id", "sv", "cs", "ro")

# Letters that point at one language (weight 3) or a few (weight 1).
_LETTER_HINTS: dict[str, dict[str, int]] = {
    "ñ": {"es": 3}, "¿": {"es": 3}, "¡": {"es": 3}, "ã": {"pt": 3}, "õ": {"pt": 3},
    "ç": {"pt": 1, "fr": 1, "tr": 1}, "œ": {"fr": 3}, "è": {"fr": 1, "it": 1},
    "ê": {"fr": 1, "pt": 1}, "à": {"fr": 1, "it": 1, "pt": 1}, "ù": {"fr": 1, "it": 1},
    "î": {"fr": 1, "ro": 1}, "û": {"fr": 1}, "ë": {"fr": 1, "nl": 1}, "ï": {"fr": 1, "nl": 1},
    "ì": {"it": 3}, "ò": {"it": 3}, "ß": {"de": 3}, "ä": {"de": 1, "sv": 1},
    "ö": {"de": 1, "sv": 1, "tr": 1}, "ü": {"de": 1, "tr": 1}, "å": {"sv": 3},
    "ą": {"pl": 3}, "ę": {"pl": 3}, "ł": {"pl": 3}, "ś": {"pl": 3}, "ź": {"pl": 3},
    "ż": {"pl": 3}, "ń": {"pl": 3}, "ć": {"pl": 2}, "ğ": {"tr": 3}, "ş": {"tr": 3, "ro": 1},
    "ı": {"tr": 3}, "ș": {"ro": 3}, "ț": {"ro": 3}, "ă": {"ro": 2, "vi": 2},
    "ř": {"cs": 3}, "ě": {"cs": 3}, "ů": {"cs": 3}, "đ": {"vi": 3}, "ơ": {"vi": 3},
    "ư": {"vi": 3}, "á": {"es": 1, "pt": 1, "cs": 1, "vi": 1}, "í": {"es": 1, "pt": 1, "cs": 1},
    "ó": {"es": 1, "pt": 1, "pl": 1}, "ú": {"es": 1, "pt": 1}, "é": {"fr": 1, "es": 1, "pt": 1},
}  # fmt: skip

_ALIAS_RE = re.compile(r"(?:^|(?<=\s))@[\w-]+")
_URL_RE = re.compile(r"\bhttps?://\S+")
_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Detection:
    language: str  # ISO 639-1
    script: str  # "latin", "cyrillic", "han" ... or "none"
    confident: bool  # False when we fell back on the default


def _script_of(ch: str) -> str | None:
    code = ord(ch)
    for first, last, script in _SCRIPT_RANGES:
        if first <= code <= last:
            return script
    return None


def _cyrillic_language(text: str) -> str:
    letters = set(text.lower())
    if "ў" in letters:
        return "be"
    if letters & set("іїєґ"):
        return "uk"
    if letters & set("ђјљњћџ"):
        return "sr"
    if letters & set("ѓќѕ"):
        return "mk"
    words = set(_WORD_RE.findall(text.lower()))
    bulgarian = {"със", "във", "от", "са", "е", "ще", "като", "това", "котка", "куче"}
    if not letters & set("ыэё") and len(words & bulgarian) >= 1 and "ъ" in letters:
        return "bg"
    return "ru"


def _arabic_language(text: str) -> str:
    letters = set(text)
    if letters & set("ٹڈڑںےھ"):
        return "ur"
    if letters & set("پچژگکی"):
        return "fa"
    return "ar"


def _latin_language(text: str) -> tuple[str, bool]:
    lowered = text.lower()
    words = _WORD_RE.findall(lowered)
    scores = dict.fromkeys(_LATIN_ORDER, 0)
    for word in words:
        for lang, vocabulary in _WORDS.items():
            if word in vocabulary:
                scores[lang] += 2
    for ch in lowered:
        for lang, weight in _LETTER_HINTS.get(ch, {}).items():
            scores[lang] += weight
    best = max(_LATIN_ORDER, key=lambda lang: (scores[lang], -_LATIN_ORDER.index(lang)))
    if scores[best] == 0:
        return "en", False
    return best, True


def strip_aliases(text: str) -> str:
    """The prompt without `@alias` tokens and URLs (they say nothing about the language)."""
    return _URL_RE.sub(" ", _ALIAS_RE.sub(" ", text))


def detect_language(text: str) -> Detection:
    cleaned = strip_aliases(text)
    counts: dict[str, int] = {}
    for ch in cleaned:
        script = _script_of(ch)
        if script is not None:
            counts[script] = counts.get(script, 0) + _DENSE_SCRIPTS.get(script, 1)
    if not counts:
        return Detection("en", "none", False)
    # Japanese mixes kana with kanji; any real amount of kana means Japanese.
    if counts.get("kana", 0) and counts.get("kana", 0) * 4 >= counts.get("han", 0):
        counts["han"] = counts.get("han", 0) + counts.pop("kana")
        dominant = max(counts, key=lambda s: counts[s])
        if dominant == "han":
            return Detection("ja", "han+kana", True)
    else:
        counts.pop("kana", None)
    dominant = max(counts, key=lambda s: counts[s])
    if dominant == "latin":
        language, confident = _latin_language(cleaned)
        return Detection(language, "latin", confident)
    if dominant == "cyrillic":
        return Detection(_cyrillic_language(cleaned), "cyrillic", True)
    if dominant == "arabic":
        return Detection(_arabic_language(cleaned), "arabic", True)
    if dominant == "han":
        return Detection("zh", "han", True)
    return Detection(_SCRIPT_LANGUAGE.get(dominant, "en"), dominant, dominant in _SCRIPT_LANGUAGE)
