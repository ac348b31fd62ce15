from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from banatie.storage.s3 import S3BlobStore
from tests.support.s3_server import (
    TEST_ACCESS_KEY_ID,
    TEST_REGION,
    TEST_SECRET_ACCESS_KEY,
    s3_endpoint,
    unique_bucket_name,
)

__all__ = ["s3_endpoint"]  # the session-wide moto server fixture, re-exported for pytest


@pytest.fixture
def bucket() -> str:
    return unique_bucket_name()


@pytest.fixture
async def s3_store(s3_endpoint: str, bucket: str) -> AsyncIterator[S3BlobStore]:
    store = S3BlobStore(
        bucket,
        endpoint_url=s3_endpoint,
        region=TEST_REGION,
        access_key_id=TEST_ACCESS_KEY_ID,
        secret_access_key=TEST_SECRET_ACCESS_KEY,
        create_bucket=True,
    )
    await store.ensure_bucket()
    yield store
    await store.close()
