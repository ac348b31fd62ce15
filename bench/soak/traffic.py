"""The soak's mixed traffic: a weighted draw of request kinds, sent round-robin to the
replicas by a few concurrent clients; every answer's latency is kept per kind, and every
answer that is not the one expected is an error (with a sample of what came back)."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

SUBJECTS = [
    "a red fox", "a lighthouse", "a bowl of ramen", "a mountain lake", "a robot reading",
    "a paper boat", "a hot air balloon", "a cup of coffee", "a snowy cabin", "a desert road",
]  # fmt: skip
WIDTHS = [64, 96, 128, 160, 200, 240, 320, 400, 480, 640]
# Kind -> weight: mostly reads (hits), some misses and generations, as a site would see.
MIX = {
    "generation_sync": 2,
    "generation_async": 1,
    "live_hit": 12,
    "live_miss": 2,
    "variant_hit": 12,
    "variant_miss": 3,
    "list": 4,
}


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)

    def ok(self, kind: str, seconds: float) -> None:
        self.latencies[kind].append(seconds)

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < 20:
            self.samples.append(f"{kind}: {what[:300]}")


@dataclass
class State:
    """What the run has made so far: images to vary, live URLs to hit."""

    bases: list[str]
    key: str
    async_supported: bool = False
    images: list[str] = field(default_factory=list)
    widths: dict[str, set[int]] = field(default_factory=dict)
    live_prompts: list[str] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=itertools.count)
    round_robin: itertools.count[int] = field(default_factory=itertools.count)

    def base(self) -> str:
        return self.bases[next(self.round_robin) % len(self.bases)]

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    def fresh_prompt(self) -> str:
        n = next(self.counter)
        return f"{random.choice(SUBJECTS)} number {n}"


def live_path(prompt: str) -> str:
    return f"/cdn/soak/main/live/soak?prompt={quote(prompt)}"


async def _generate(
    http: httpx.AsyncClient, state: State, *, respond_async: bool
) -> httpx.Response:
    headers = dict(state.headers)
    if respond_async:
        headers["Prefer"] = "respond-async"
    return await http.post(
        f"{state.base()}/api/v1/generations",
        headers=headers,
        json={"prompt": state.fresh_prompt(), "aspectRatio": random.choice(["1:1", "16:9"])},
    )


async def one(http: httpx.AsyncClient, state: State, kind: str, results: Results) -> None:
    started = time.perf_counter()
    try:
        expected, response = await _request(http, state, kind)
    except httpx.HTTPError as exc:
        results.error(kind, f"{type(exc).__name__}: {exc}")
        return
    if response is None:
        return
    elapsed = time.perf_counter() - started
    if response.status_code not in expected:
        results.error(kind, f"HTTP {response.status_code}: {response.text[:200]}")
        return
    results.ok(kind, elapsed)
    _learn(state, kind, response)


async def _request(
    http: httpx.AsyncClient, state: State, kind: str
) -> tuple[tuple[int, ...], httpx.Response | None]:
    if kind == "generation_sync":
        return (201,), await _generate(http, state, respond_async=False)
    if kind == "generation_async" and state.async_supported:
        return (202,), await _generate(http, state, respond_async=True)
    if kind == "live_hit" and state.live_prompts:
        return (200,), await http.get(state.base() + live_path(random.choice(state.live_prompts)))
    if kind in ("live_miss", "live_hit"):
        prompt = state.fresh_prompt()
        state.live_prompts.append(prompt)
        return (200,), await http.get(state.base() + live_path(prompt))
    rendered = [image for image in state.images if state.widths[image]]
    if kind == "variant_hit" and rendered:
        image = random.choice(rendered)
        width = random.choice(sorted(state.widths[image]))
        return (200,), await http.get(f"{state.base()}/cdn/soak/main/img/{image}?w={width}")
    if kind in ("variant_miss", "variant_hit") and state.images:
        image = random.choice(state.images)
        free = [w for w in WIDTHS if w not in state.widths[image]] or [random.randint(32, 1000)]
        width = random.choice(free)
        state.widths[image].add(width)
        return (200,), await http.get(f"{state.base()}/cdn/soak/main/img/{image}?w={width}")
    if kind == "list":
        what = random.choice(["generations", "images"])
        return (200,), await http.get(
            f"{state.base()}/api/v1/{what}?limit=20", headers=state.headers
        )
    return (), None  # nothing to vary yet: skipped


def _learn(state: State, kind: str, response: httpx.Response) -> None:
    if kind.startswith("generation") and response.status_code == 201:
        output: dict[str, Any] | None = response.json()["data"].get("outputImage")
        if output is not None:
            state.images.append(output["id"])
            state.widths[output["id"]] = set()


async def run(state: State, *, seconds: float, clients: int) -> Results:
    results = Results()
    kinds = list(MIX)
    weights = [MIX[k] for k in kinds]
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:

        async def client() -> None:
            while time.monotonic() < deadline:
                await one(http, state, random.choices(kinds, weights)[0], results)

        await asyncio.gather(*(client() for _ in range(clients)))
    return results


async def detect_async(base: str, key: str) -> bool:
    """Whether the server answers `Prefer: respond-async` with 202 (async generation)."""
    async with httpx.AsyncClient(timeout=120) as http:
        answer = await http.post(
            f"{base}/api/v1/generations",
            headers={"X-API-Key": key, "Prefer": "respond-async"},
            json={"prompt": "a soak's first image"},
        )
    return answer.status_code == 202
