"""Sending calls: headers, retries, and turning error answers into exceptions."""

from __future__ import annotations

import asyncio
import time
from typing import Any, TypeVar

import httpx

from banatie_sdk._calls import Call
from banatie_sdk._config import Config
from banatie_sdk._retry import delay_for_error, delay_for_response, parse_retry_after
from banatie_sdk._version import __version__
from banatie_sdk.errors import APIConnectionError, APITimeoutError, BanatieError, error_for

T = TypeVar("T")

USER_AGENT = f"banatie-sdk-python/{__version__}"


def request_args(config: Config, call: Call[Any]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "method": call.method,
        "url": config.base_url + call.path,
        "headers": {"X-API-Key": config.api_key, "Accept": "application/json"},
    }
    if call.params:
        args["params"] = dict(call.params)
    if call.json is not None:
        args["json"] = call.json
    if call.files is not None:
        args["files"] = dict(call.files)
        args["data"] = dict(call.data or {})
    return args


def read(response: httpx.Response, call: Call[T]) -> T:
    if response.is_success:
        return call.parse(response.json())
    raise error_from(response)


def error_from(response: httpx.Response) -> BanatieError:
    code, message, details = "HTTP_ERROR", response.text[:500] or response.reason_phrase, None
    try:
        error = response.json()["error"]
        code, message, details = error["code"], error["message"], error.get("details")
    except (ValueError, KeyError, TypeError):
        pass
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    return error_for(response.status_code, code, message, details, retry_after)


def connection_error(exc: httpx.TransportError) -> BanatieError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"no answer in time: {exc}", code="TIMEOUT")
    return APIConnectionError(f"could not reach the server: {exc}", code="CONNECTION_ERROR")


class SyncTransport:
    def __init__(self, config: Config, http: httpx.Client | None) -> None:
        self.config = config
        self._owned = http is None
        self.http = http or httpx.Client(timeout=config.timeout, headers={"User-Agent": USER_AGENT})

    def run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self.http.request(**request_args(self.config, call))
            except httpx.TransportError as exc:
                delay = delay_for_error(call, exc, attempt, self.config.max_retries)
                if delay is None:
                    raise connection_error(exc) from exc
            else:
                delay = delay_for_response(
                    response, attempt, self.config.max_retries, self.config.max_retry_delay
                )
                if delay is None:
                    return read(response, call)
            time.sleep(delay)
            attempt += 1

    def get_bytes(self, url: str) -> bytes:
        """A CDN URL's bytes; the API key is not sent (the CDN may be someone else's)."""
        try:
            response = self.http.get(url)
        except httpx.TransportError as exc:
            raise connection_error(exc) from exc
        if not response.is_success:
            raise error_from(response)
        return response.content

    def close(self) -> None:
        if self._owned:
            self.http.close()


class AsyncTransport:
    def __init__(self, config: Config, http: httpx.AsyncClient | None) -> None:
        self.config = config
        self._owned = http is None
        self.http = http or httpx.AsyncClient(
            timeout=config.timeout, headers={"User-Agent": USER_AGENT}
        )

    async def run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self.http.request(**request_args(self.config, call))
            except httpx.TransportError as exc:
                delay = delay_for_error(call, exc, attempt, self.config.max_retries)
                if delay is None:
                    raise connection_error(exc) from exc
            else:
                delay = delay_for_response(
                    response, attempt, self.config.max_retries, self.config.max_retry_delay
                )
                if delay is None:
                    return read(response, call)
            await asyncio.sleep(delay)
            attempt += 1

    async def get_bytes(self, url: str) -> bytes:
        try:
            response = await self.http.get(url)
        except httpx.TransportError as exc:
            raise connection_error(exc) from exc
        if not response.is_success:
            raise error_from(response)
        return response.content

    async def close(self) -> None:
        if self._owned:
            await self.http.aclose()
