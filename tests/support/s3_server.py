"""A real S3 endpoint for tests: moto's server on 127.0.0.1, spoken to over HTTP.

    with running_s3_server() as endpoint:
        url = s3_storage_url(endpoint, "my-bucket")   # give this to Settings(storage_url=...)
        store = open_blob_store(url)                  # creates the bucket on first use

Any test suite can get the session-wide server as a fixture by importing it into its conftest.py:

    from tests.support.s3_server import s3_endpoint  # noqa: F401  (registers the fixture)

The server keeps its state in this process (moto's global backends); use a fresh bucket name per
test (`unique_bucket_name()`) or call `reset_s3_server(endpoint)` to wipe everything.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from moto.server import ThreadedMotoServer

TEST_ACCESS_KEY_ID = "testing"
TEST_SECRET_ACCESS_KEY = "testing"
TEST_REGION = "us-east-1"

_DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
    "AWS_DEFAULT_REGION": TEST_REGION,
}


@contextmanager
def running_s3_server(*, quiet: bool = True) -> Iterator[str]:
    """Start moto's S3 server on a free local port; yield its endpoint URL; stop it after.

    Dummy AWS credentials and region are put in the environment for the duration when absent
    (so boto3 clients built from the default chain work) and removed again afterwards.
    `quiet` mutes werkzeug's one-line-per-request access log.
    """
    added = [name for name in _DUMMY_ENV if not os.environ.get(name)]
    for name in added:
        os.environ[name] = _DUMMY_ENV[name]
    access_log = logging.getLogger("werkzeug")
    old_level = access_log.level
    if quiet:
        access_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        access_log.setLevel(old_level)
        for name in added:
            os.environ.pop(name, None)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """One moto S3 server (real HTTP on 127.0.0.1) for the whole test session."""
    with running_s3_server() as endpoint:
        yield endpoint


def s3_storage_url(
    endpoint: str,
    bucket: str,
    *,
    region: str = TEST_REGION,
    access_key_id: str = TEST_ACCESS_KEY_ID,
    secret_access_key: str = TEST_SECRET_ACCESS_KEY,
) -> str:
    """The `s3://…` storage URL (BANATIE_STORAGE_URL) for `bucket` on the test server."""
    query = urlencode(
        {
            "endpoint": endpoint,
            "region": region,
            "access_key_id": access_key_id,
            "secret_access_key": secret_access_key,
        }
    )
    return f"s3://{bucket}?{query}"


def unique_bucket_name(prefix: str = "banatie-test") -> str:
    """A valid, unused bucket name (lowercase, <= 63 chars)."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def reset_s3_server(endpoint: str) -> None:
    """Forget every bucket and object on the moto server."""
    request = Request(f"{endpoint}/moto-api/reset", method="POST")
    with urlopen(request, timeout=10) as response:
        response.read()
