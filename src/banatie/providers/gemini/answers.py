"""Reading Gemini's answers: the first candidate, its parts and text, token usage, and what an
answer without the expected output means (a policy block, or an incomplete answer)."""

from __future__ import annotations

from typing import Any, NoReturn

from google.genai import types

from banatie.providers.errors import ContentBlocked, ProviderError

# Finish reasons that are policy decisions: the answer is a 422 CONTENT_BLOCKED, never retried.
# Every other finish without the expected output (MAX_TOKENS, OTHER, IMAGE_OTHER, NO_IMAGE,
# MALFORMED_RESPONSE, …) is a failed answer: retried once, then a 502 with the reason.
POLICY_FINISH_REASONS = frozenset(
    {
        "SAFETY",
        "IMAGE_SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
        "IMAGE_RECITATION",
    }
)


class IncompleteAnswer(ProviderError):
    """An answer without the expected output that is not a policy block (MAX_TOKENS, OTHER,
    NO_IMAGE, …): `GeminiClient.call` tries once more, then it is the final 502."""


def enum_name(value: Any) -> str | None:
    """An SDK enum (or an unknown string the SDK passed through) as its wire name."""
    if value is None:
        return None
    raw = getattr(value, "value", value)
    return str(raw) if raw is not None else None


def raise_if_prompt_blocked(response: types.GenerateContentResponse, operation: str) -> None:
    feedback = response.prompt_feedback
    reason = enum_name(feedback.block_reason) if feedback is not None else None
    if reason and reason != "BLOCKED_REASON_UNSPECIFIED":
        message = feedback.block_reason_message if feedback is not None else None
        detail = f": {message}" if message else ""
        raise ContentBlocked(
            f"Gemini blocked the {operation} prompt ({reason}){detail}", reason=reason
        )


def first_candidate(response: types.GenerateContentResponse, operation: str) -> types.Candidate:
    raise_if_prompt_blocked(response, operation)
    if not response.candidates:
        raise ProviderError(f"Gemini returned no candidates for the {operation} request")
    return response.candidates[0]


def candidate_parts(candidate: types.Candidate) -> list[types.Part]:
    return list(candidate.content.parts or []) if candidate.content is not None else []


def candidate_text(candidate: types.Candidate) -> str:
    """The candidate's answer text, without thought summaries."""
    return "".join(p.text for p in candidate_parts(candidate) if p.text and not p.thought)


def raise_for_unfinished(candidate: types.Candidate, operation: str, *, what: str) -> NoReturn:
    """A candidate without the expected output.

    A policy finish (`POLICY_FINISH_REASONS`) is `ContentBlocked`; any other (MAX_TOKENS, OTHER,
    IMAGE_OTHER, NO_IMAGE, MALFORMED_RESPONSE, text only, …) is an `IncompleteAnswer` carrying
    the reason. A candidate that has neither output nor a finish reason is a malformed body.
    """
    reason = enum_name(candidate.finish_reason)
    if reason is None:
        raise ProviderError(
            f"Gemini returned a malformed {operation} response: no {what} and no finishReason"
        )
    if reason in ("STOP", "FINISH_REASON_UNSPECIFIED"):
        reason = "NO_IMAGE" if what == "image" else "NO_OUTPUT"
    detail = candidate.finish_message or candidate_text(candidate).strip()
    suffix = f": {detail[:300]}" if detail else ""
    if reason in POLICY_FINISH_REASONS:
        raise ContentBlocked(f"Gemini returned no {what} ({reason}){suffix}", reason=reason)
    raise IncompleteAnswer(f"Gemini returned no {what} ({reason}){suffix}", reason=reason)


def usage_counts(response: types.GenerateContentResponse) -> dict[str, int]:
    usage = response.usage_metadata
    if usage is None:
        return {}
    prompt = usage.prompt_token_count or 0
    output = usage.candidates_token_count or 0
    counts = {
        "promptTokens": prompt,
        "outputTokens": output,
        "totalTokens": usage.total_token_count or prompt + output,
    }
    if usage.thoughts_token_count:
        counts["thoughtsTokens"] = usage.thoughts_token_count
    return counts
