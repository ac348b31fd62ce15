"""One settings class for the whole server; every default is embedded (no keys, no network)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlparse

from platformdirs import user_data_path
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from banatie.delivery.presets import DEFAULT_PRESETS, Preset, parse_presets
from banatie.live.client_ip import check_trusted_proxies, networks

DEFAULT_PORT = 8000


def default_data_dir() -> Path:
    """Per user, not per folder: the server and the CLI find one data dir wherever they start
    (~/.local/share/banatie on Linux, ~/Library/Application Support/banatie on macOS)."""
    return user_data_path("banatie")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BANATIE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    storage_url: str | None = None
    public_base_url: str = f"http://localhost:{DEFAULT_PORT}"
    cdn_base_url: str | None = None
    redis_url: str | None = None
    # While Redis (the shared rate limiter) is unreachable: "closed" refuses requests that
    # must be counted (503 RATE_LIMITER_UNAVAILABLE), "open" serves them uncounted.
    rate_limit_on_error: Literal["closed", "open"] = "closed"

    # Upload and image limits: an over-size or over-pixel file is refused before it is decoded.
    max_upload_bytes: int = 5 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_prompt_chars: int = 5000
    max_reference_images: int = 3
    # Request bodies other than uploads (JSON), checked before parsing and before auth (413).
    max_json_body_bytes: int = 1024 * 1024
    # `meta` of generations, images and scopes, as compact JSON.
    max_meta_bytes: int = 16 * 1024
    # Comma-separated origins whose pages may call the API (CORS); `/cdn` serves any origin.
    cors_origins: str = ""
    # libvips work runs in a bounded thread pool, never on the event loop.
    cpu_workers: int = 2

    # First run: `banatie serve` on an empty database creates this org/project and prints a key.
    first_run_organization: str = "default"
    first_run_project: str = "main"
    first_run_key_file: Path | None = None

    # Gemini (issue 3): with a key set the Gemini adapters replace the embedded ones.
    gemini_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("BANATIE_GEMINI_API_KEY", "GEMINI_API_KEY")
    )
    gemini_base_url: str | None = None
    gemini_api_version: str = "v1beta"
    # Unset: chosen at start-up from the models the key can use (docs/gemini.md); set: pinned.
    gemini_image_model: str | None = None
    gemini_text_model: str | None = None
    gemini_timeout_seconds: float = 60.0
    gemini_max_retries: int = 3
    gemini_retry_base_seconds: float = 1.0
    # Limit for the optional analyzer agent; past it the local analysis stands.
    gemini_analyzer_timeout_seconds: float = 15.0

    # Free tier (issue 5).
    free_monthly_generations: int = Field(default=100, ge=0)
    free_rate_limit: str = "10/minute"
    free_storage_mb: int = Field(default=1024, ge=0)

    # Live URLs (issue 6): `/cdn/{org}/{project}/live/{scope}?prompt=…`. See README.
    # Misses (generations) per client IP and project, in `limits` syntax; signed URLs skip it.
    live_ip_rate_limit: str = "10/hour"
    # Defaults of a scope created on first use (a project's live settings can override them).
    live_scope_generations_limit: int = Field(default=30, ge=0)
    # Cache-Control max-age of a live image (it can be regenerated, so not `immutable`).
    live_cache_seconds: int = 86400
    # Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For is believed (by
    # `banatie serve`'s workers, banatie.serving.worker_app); empty: nobody's.
    trusted_proxies: str = ""
    # Client IPs/CIDRs whose live misses are the owner's: no per-IP limit (scope and quota
    # limits still apply; a request a proxy passed on never is). Unset: this machine
    # (loopback) on the embedded synthesizer, where a miss costs nothing; nobody once Gemini
    # is on. "" turns it off.
    live_owner_ips: str | None = None
    # Cross-replica single-flight: a pending claim without a heartbeat for this long is taken
    # over; waiters poll the claim this often and give up after the timeout.
    live_claim_stale_seconds: float = 60.0
    live_poll_seconds: float = 0.1
    live_wait_timeout_seconds: float = 300.0
    # In-process cache of cache key -> image (the hit path's only lookup when warm). A stale
    # entry heals itself: the image's blob is gone, so the next hit looks again.
    live_lru_size: int = 10_000
    live_lru_ttl_seconds: float = 300.0
    # Memory tier for the bytes of hot live images, per process (0 turns it off). Bytes are
    # read again after `live_memory_cache_seconds`: that bounds how long another replica's
    # deletion or regeneration goes unseen (under the CDN purge's settle time).
    live_memory_cache_mb: int = 64
    live_memory_cache_seconds: float = 1.0

    # Crash recovery (docs/operations.md): each process beats every sixth of this; the
    # generations and live claims of a process silent this long are marked failed
    # (INTERRUPTED) and their reservations released by any replica.
    work_stale_seconds: float = Field(default=30.0, gt=0)
    # Async and batch generations (docs/operations.md, "Jobs"): the queue (`auto`: procrastinate
    # on PostgreSQL, in-process on SQLite), whether `serve` runs jobs too (else only
    # `banatie worker` processes do), jobs at once per process, and retries of a transient
    # provider failure (attempts in all; the wait doubles from `job_retry_seconds`).
    job_queue: Literal["auto", "memory", "postgres"] = "auto"
    jobs_in_serve: bool = True
    job_concurrency: int = Field(default=2, ge=1, le=64)
    job_max_attempts: int = Field(default=4, ge=1, le=20)
    job_retry_seconds: float = Field(default=2.0, ge=0)
    # Blobs no image row points at, older than this, are deleted every interval (0: only by
    # `banatie gc`).
    blob_gc_min_age_seconds: float = Field(default=3600.0, ge=0)
    blob_gc_interval_seconds: float = Field(default=3600.0, ge=0)

    # Web console (/console, docs/console.md): a signed-in browser's session lasts this long;
    # log-in attempts are counted per client IP and per account named (`limits` syntax).
    console_session_days: int = Field(default=14, ge=1, le=365)
    console_login_rate_per_ip: str = "30/15minutes"
    console_login_rate_per_account: str = "10/15minutes"
    # Unset: Secure cookies exactly when BANATIE_PUBLIC_BASE_URL is https.
    console_secure_cookies: bool | None = None
    # Mail for password reset links; without a host the link goes to the server log.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Banatie <no-reply@localhost>"
    # "starttls" (port 587), "tls" (implicit, port 465) or "none" (a local relay).
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_timeout_seconds: float = 10.0

    alias_cache_seconds: int = 60
    # `name:query;name:query`; empty keeps the built-in presets (thumbnail, card, hero, og, avatar).
    delivery_presets: str | None = None

    # Delivery (issue 4): transformation limits, signed URLs, CDN purge. See docs/cdn.md.
    max_transform_dimension: int = 4096
    max_transform_dpr: float = 4.0
    # Distinct unsigned variants one image may have (presets and srcset widths are free); 0: no cap.
    max_variants_per_image: int = Field(default=50, ge=0)
    # PNG sources up to this many pixels are kept decoded (4 bytes a pixel at most) next to
    # their variants, so later variants skip the PNG decoder; counted as the project's storage,
    # never made past its limit. 0: never.
    decoded_cache_max_pixels: int = Field(default=4_194_304, ge=0)
    delivery_signing_key: str | None = None
    delivery_require_signature: bool = False
    cloudflare_zone_id: str | None = None
    cloudflare_api_token: str | None = None
    cloudflare_api_base_url: str = "https://api.cloudflare.com/client/v4"
    cloudflare_purge_tags: bool = False
    # The query parameter a Cloudflare Transform Rule appends to format=auto URLs (docs/cdn.md).
    cloudflare_accept_param: str | None = None
    cdn_purge_poll_seconds: float = 5.0
    cdn_purge_retry_base_seconds: float = 5.0
    cdn_purge_retry_max_seconds: float = 3600.0
    cdn_purge_max_attempts: int = 20
    # Image rows behind /cdn URLs are reused this long per process (0: off); purges wait for it.
    delivery_metadata_ttl_seconds: float = 1.0
    # Whole replies of hot /cdn image URLs (variants and originals) kept in memory per process
    # while their image row is cached (banatie.delivery.warm); 0 turns it off.
    delivery_memory_cache_mb: int = Field(default=32, ge=0)

    # Operations (docs/operations.md): `text` lines for people, `json` (one object a line)
    # for log collectors; Banatie's own loggers log at `log_level`.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # On SIGTERM a server stops accepting connections and lets requests in flight finish for
    # this long, then cancels them; its unfinished work is given back to the other replicas.
    shutdown_timeout_seconds: float = Field(default=25.0, ge=0)
    # `/metrics` (Prometheus); with a token it answers only `Authorization: Bearer <token>`.
    metrics_enabled: bool = True
    metrics_token: str | None = None

    # URLs the server calls for its users (MCP `upload_image` by URL, webhook targets;
    # banatie.ssrf): private, loopback and link-local addresses are refused unless this allows
    # them (a trusted, private deployment).
    fetch_private_urls: bool = False
    fetch_timeout_seconds: float = 20.0

    # Webhooks (docs/webhooks.md): a delivery that fails is retried after each of these delays
    # (seconds, comma-separated), then marked failed; one attempt waits this long for the
    # receiver; every process's dispatcher looks for due deliveries this often.
    webhook_retry_seconds: str = "5,300,1800,7200,18000,36000,36000"
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _case_insensitive(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return (
            value.upper()
            if value.lower() in ("debug", "info", "warning", "error")
            else value.lower()
        )

    @field_validator("webhook_retry_seconds")
    @classmethod
    def _webhook_retry_seconds(cls, value: str) -> str:
        retry_delays(value)
        return value

    @property
    def webhook_retry_delays(self) -> tuple[float, ...]:
        return retry_delays(self.webhook_retry_seconds)

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        return check_trusted_proxies(value)

    @field_validator("live_owner_ips")
    @classmethod
    def _live_owner_ips(cls, value: str | None) -> str | None:
        if value is not None:
            networks(value, "BANATIE_LIVE_OWNER_IPS")
        return value

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """Configured secrets, which log lines never show (banatie.observability.logs)."""
        return (
            self.gemini_api_key,
            self.delivery_signing_key,
            self.cloudflare_api_token,
            self.metrics_token,
            _password(self.database_url),
            _password(self.redis_url),
            _storage_secret(self.storage_url),
        )

    @property
    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL: SQLite in the data dir unless a PostgreSQL URL is given."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'banatie.db').resolve()}"
        return to_async_url(url)

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or f"file://{(self.data_dir / 'blobs').resolve()}"

    @property
    def resolved_live_owner_ips(self) -> str:
        if self.live_owner_ips is not None:
            return self.live_owner_ips
        return "" if self.gemini_api_key else "127.0.0.0/8,::1"

    @property
    def delivery_base_url(self) -> str:
        return (self.cdn_base_url or self.public_base_url).rstrip("/")

    @cached_property
    def presets(self) -> tuple[Preset, ...]:
        return parse_presets(self.delivery_presets) if self.delivery_presets else DEFAULT_PRESETS

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def max_upload_request_bytes(self) -> int:
        """An upload request: the file, `meta` and the multipart framing of a few small fields."""
        return self.max_upload_bytes + self.max_meta_bytes + 64 * 1024

    @property
    def max_mcp_request_bytes(self) -> int:
        """A tool call: an upload in base64 (4/3 of the file) and its JSON-RPC framing."""
        return max(self.max_json_body_bytes, self.max_upload_bytes * 4 // 3 + 64 * 1024)

    @property
    def console_cookies_secure(self) -> bool:
        if self.console_secure_cookies is not None:
            return self.console_secure_cookies
        return self.public_base_url.lower().startswith("https://")

    @cached_property
    def is_postgres(self) -> bool:
        return self.resolved_database_url.startswith("postgresql")

    @property
    def resolved_job_queue(self) -> Literal["memory", "postgres"]:
        if self.job_queue == "auto":
            return "postgres" if self.is_postgres else "memory"
        return self.job_queue


def retry_delays(value: str) -> tuple[float, ...]:
    """`5,300,1800` -> (5.0, 300.0, 1800.0); empty: no retries."""
    try:
        delays = tuple(float(part) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"expected seconds separated by commas, got {value!r}") from exc
    if any(delay < 0 for delay in delays):
        raise ValueError(f"retry delays must not be negative: {value!r}")
    return delays


def _password(url: str | None) -> str | None:
    try:
        return urlparse(url).password if url else None
    except ValueError:
        return None


def _storage_secret(url: str | None) -> str | None:
    try:
        return parse_storage_url(url)[2].get("secret_access_key") if url else None
    except ValueError:
        return None


def to_async_url(url: str) -> str:
    """Map the URLs people write to the async drivers SQLAlchemy needs."""
    for prefix, replacement in (
        ("postgres://", "postgresql+psycopg://"),
        ("postgresql://", "postgresql+psycopg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(prefix):
            return replacement + url[len(prefix) :]
    return url


def to_sync_url(url: str) -> str:
    """Alembic runs synchronously; psycopg serves both, sqlite3 replaces aiosqlite."""
    return url.replace("sqlite+aiosqlite://", "sqlite://")


def parse_storage_url(url: str) -> tuple[str, str, dict[str, str]]:
    """Split `s3://bucket?endpoint=…` or `file:///path` into (scheme, location, options)."""
    parsed = urlparse(url)
    options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    if parsed.scheme == "file":
        return "file", parsed.path, options
    if parsed.scheme == "s3":
        return "s3", parsed.netloc, options
    if not parsed.scheme:
        return "file", url, options
    raise ValueError(f"unsupported storage URL scheme {parsed.scheme!r}: use file:// or s3://")
