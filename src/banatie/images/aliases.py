"""Alias rules: `@name` tokens in prompts, their validation and the reserved technical aliases."""

from __future__ import annotations

import re
import uuid

from banatie.errors import ValidationError

# DESIGN.md §2: `@` + word characters or dashes, after whitespace or at the start.
PROMPT_ALIAS_RE = re.compile(r"(?:^|\s)(@[\w-]+)")
ALIAS_RE = re.compile(r"^@[\w-]{1,99}$")
TECHNICAL_ALIASES = frozenset({"@last", "@first", "@upload"})


def aliases_in_prompt(prompt: str) -> list[str]:
    """Aliases in order of first appearance, without repeats."""
    seen: dict[str, None] = {}
    for match in PROMPT_ALIAS_RE.finditer(prompt):
        seen.setdefault(match.group(1), None)
    return list(seen)


def normalize_alias(value: str, field: str = "alias") -> str:
    """Accept `hero` or `@hero`; return `@hero`, or a 400 that says what is allowed."""
    alias = value.strip()
    if not alias.startswith("@"):
        alias = "@" + alias
    if not ALIAS_RE.match(alias):
        raise ValidationError(
            f"{field} {value!r} is not valid: use @ followed by 1-99 letters, digits, "
            "underscores or dashes"
        )
    if alias in TECHNICAL_ALIASES:
        raise ValidationError(f"{field} {alias} is reserved for flows and cannot be assigned")
    return alias


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
