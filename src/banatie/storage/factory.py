"""Pick the BlobStore a storage URL names.

* ``file:///abs/path`` or a bare path (``./var/blobs``) -> LocalBlobStore (directory created when
  ``create``).
* ``s3://bucket?endpoint=http://host:9000&region=us-east-1&access_key_id=…&secret_access_key=…``
  -> S3BlobStore. Every option is optional; missing credentials come from the standard AWS chain
  (env, profile, instance role). With ``create`` the bucket is created, if missing, before the
  first operation (lazily, in a worker thread: opening a store never blocks on the network).
  Query values are URL-decoded, so a secret containing ``+`` or ``/`` must be written ``%2B`` /
  ``%2F`` (a bare ``+`` decodes to a space).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from banatie.settings import parse_storage_url
from banatie.storage.base import BlobStore
from banatie.storage.local import LocalBlobStore

_S3_OPTIONS = frozenset(
    {"endpoint", "endpoint_url", "region", "access_key_id", "secret_access_key", "session_token"}
)


def open_blob_store(url: str, *, create: bool = True) -> BlobStore:
    scheme, location, options = parse_storage_url(url)
    if scheme == "file":
        return _open_local(url, location, options, create=create)
    return _open_s3(url, location, options, create=create)


def _open_local(url: str, location: str, options: dict[str, str], *, create: bool) -> BlobStore:
    if options:
        raise ValueError(f"file storage takes no options, got {sorted(options)}")
    if url.startswith("file:"):
        netloc = urlparse(url).netloc
        if netloc not in ("", "localhost"):
            raise ValueError(f"file URL {url!r} names host {netloc!r}: write file:///absolute/path")
    if not location:
        raise ValueError(f"storage URL {url!r} has no path")
    root = Path(location).expanduser()
    if create:
        root.mkdir(parents=True, exist_ok=True)
    elif not root.is_dir():
        raise ValueError(f"storage directory {str(root)!r} does not exist")
    return LocalBlobStore(root)


def _open_s3(url: str, bucket: str, options: dict[str, str], *, create: bool) -> BlobStore:
    if not bucket:
        raise ValueError(f"storage URL {url!r} has no bucket: write s3://bucket")
    path = urlparse(url).path
    if path not in ("", "/"):
        raise ValueError(f"storage URL {url!r}: key prefixes (s3://bucket/prefix) not supported")
    unknown = set(options) - _S3_OPTIONS
    if unknown:
        raise ValueError(
            f"unknown s3 storage option(s) {sorted(unknown)}; known: {sorted(_S3_OPTIONS)}"
        )
    from banatie.storage.s3 import S3BlobStore  # boto3 loads only where S3 is the store

    return S3BlobStore(
        bucket,
        endpoint_url=options.get("endpoint") or options.get("endpoint_url") or None,
        region=options.get("region") or None,
        access_key_id=options.get("access_key_id") or None,
        secret_access_key=options.get("secret_access_key") or None,
        create_bucket=create,
        session_token=options.get("session_token") or None,
    )
