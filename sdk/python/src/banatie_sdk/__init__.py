"""Python client for Banatie: ``Banatie`` (sync) and ``AsyncBanatie`` (async).

from banatie_sdk import Banatie

client = Banatie(api_key="bnt_…", base_url="http://localhost:8000")
generation = client.generations.create("a red fox in a snowy forest", aspect_ratio="16:9")
print(generation.output_image.storage_url)
"""

from banatie_sdk._async_client import AsyncBanatie, AsyncFlow
from banatie_sdk._calls import (
    GenerationChanges,
    GenerationOptions,
    ImageChanges,
    LiveSettingsChanges,
    NamespaceFields,
    StepOptions,
)
from banatie_sdk._client import Banatie, Flow
from banatie_sdk._version import __version__
from banatie_sdk.errors import (
    AliasConflictError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BanatieError,
    ConflictError,
    ContentBlockedError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
    ValidationError,
)
from banatie_sdk.models import (
    Deleted,
    Enhancement,
    FlowData,
    FocalPoint,
    Generation,
    Image,
    LiveImage,
    LiveRegeneration,
    LiveScope,
    LiveSettings,
    LiveUrl,
    Namespace,
    ReferencedImage,
    Usage,
)
from banatie_sdk.signing import Transform

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AliasConflictError",
    "AsyncBanatie",
    "AsyncFlow",
    "AuthenticationError",
    "Banatie",
    "BanatieError",
    "ConflictError",
    "ContentBlockedError",
    "Deleted",
    "Enhancement",
    "Flow",
    "FlowData",
    "FocalPoint",
    "Generation",
    "GenerationChanges",
    "GenerationOptions",
    "Image",
    "ImageChanges",
    "InternalServerError",
    "LiveImage",
    "LiveRegeneration",
    "LiveScope",
    "LiveSettings",
    "LiveSettingsChanges",
    "LiveUrl",
    "Namespace",
    "NamespaceFields",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "ProviderError",
    "QuotaExceededError",
    "RateLimitError",
    "ReferencedImage",
    "ServiceUnavailableError",
    "StepOptions",
    "Transform",
    "Usage",
    "ValidationError",
    "__version__",
]
