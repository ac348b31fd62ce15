"""A BlobStore on S3 or anything that speaks its API (MinIO, R2, moto).

One boto3 client per store, path-style addressing (what MinIO and moto expect); every call runs in
a worker thread (``anyio.to_thread.run_sync``) so the event loop never blocks on the network.
Keys follow the same rules as the local store (``validate_key``), so both accept the same keys.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from banatie.storage.base import BlobInfo, BlobNotFound, StorageUnavailable, StoredBlob
from banatie.storage.local import validate_content_type, validate_key, validate_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

T = TypeVar("T")

_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_MISSING_BUCKET_CODES = frozenset({"404", "NoSuchBucket", "NotFound"})


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    name = "s3"
    # S3 deletes at most 1000 keys per DeleteObjects call; tests may lower this.
    delete_batch_size = 1000

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        create_bucket: bool = False,
        *,
        session_token: str | None = None,
        max_pool_connections: int = 32,
    ) -> None:
        """Credentials come from the arguments or, when absent, the standard AWS chain.

        With `create_bucket` the bucket is created (if missing) before the first operation, in a
        worker thread, so constructing the store never touches the network.
        """
        if not bucket:
            raise ValueError("S3 bucket name is empty")
        if (access_key_id is None) != (secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self._create_bucket = create_bucket
        self._bucket_ready = not create_bucket
        self._bucket_lock = threading.Lock()
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            aws_session_token=session_token,
            region_name=region,
        )
        self._client: S3Client = session.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"mode": "standard", "max_attempts": 3},
                # An unreachable endpoint is a 503 within seconds, not after minutes.
                connect_timeout=5,
                read_timeout=30,
                max_pool_connections=max_pool_connections,
            ),
        )

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    @property
    def client(self) -> S3Client:
        return self._client

    # -- BlobStore -------------------------------------------------------------------------

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        validate_content_type(content_type)
        if not isinstance(data, bytes):
            data = bytes(data)
        await self._run(
            partial(
                self._client.put_object,
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
            )
        )

    async def get(self, key: str) -> bytes:
        validate_key(key)
        return await self._run(partial(self._get_sync, key))

    async def read_small(self, key: str, max_bytes: int) -> bytes:
        # A network round trip either way: no quicker path than a GET.
        return await self.get(key)

    async def head(self, key: str) -> BlobInfo | None:
        validate_key(key)
        return await self._run(partial(self._head_sync, key))

    async def delete(self, key: str) -> None:
        validate_key(key)
        await self._run(partial(self._client.delete_object, Bucket=self.bucket, Key=key))

    async def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        return await self._run(partial(self._delete_prefix_sync, prefix))

    async def list_blobs(
        self, prefix: str = "", *, page_size: int = 1000
    ) -> AsyncIterator[list[StoredBlob]]:
        validate_prefix(prefix)
        pages: Iterator[list[StoredBlob]] | None = None

        def next_page() -> list[StoredBlob] | None:
            nonlocal pages
            if pages is None:
                pages = self._list_sync(prefix, max(1, min(1000, page_size)))
            return next(pages, None)

        while (page := await self._run(next_page)) is not None:
            if page:
                yield page

    async def remove_leftovers(self, before: datetime) -> int:
        # A put is one PutObject request: S3 stores the whole object or nothing.
        return 0

    async def close(self) -> None:
        await anyio.to_thread.run_sync(self._client.close)

    async def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (idempotent, safe to race)."""
        await anyio.to_thread.run_sync(self._ensure_bucket_sync, True)

    # -- worker-thread side ----------------------------------------------------------------

    async def _run(self, fn: Callable[[], T]) -> T:
        def call() -> T:
            try:
                if not self._bucket_ready:
                    self._ensure_bucket_sync()
                return fn()
            except (BotoConnectionError, HTTPClientError) as exc:
                raise StorageUnavailable(f"S3 is unreachable: {exc}") from exc
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if status >= 500:  # 500 InternalError, 503 SlowDown: the store's trouble
                    raise StorageUnavailable(f"S3 answered {status}: {exc}") from exc
                raise

        return await anyio.to_thread.run_sync(call)

    def _ensure_bucket_sync(self, force: bool = False) -> None:
        with self._bucket_lock:
            if force or not self._bucket_ready:
                self._create_bucket_sync()
                self._bucket_ready = True

    def _create_bucket_sync(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _error_code(exc) not in _MISSING_BUCKET_CODES:
                raise
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        region = self.region or self._client.meta.region_name
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self._client.create_bucket(**kwargs)
        except ClientError as exc:
            if _error_code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    def _get_sync(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                raise BlobNotFound(key) from None
            raise
        with response["Body"] as body:
            return body.read()

    def _head_sync(self, key: str) -> BlobInfo | None:
        try:
            response = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                return None
            raise
        return BlobInfo(
            key=key,
            size=int(response["ContentLength"]),
            content_type=response.get("ContentType") or "application/octet-stream",
        )

    def _list_sync(self, prefix: str, page_size: int) -> Iterator[list[StoredBlob]]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(
            Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
        ):
            yield [
                StoredBlob(
                    obj["Key"],
                    int(obj.get("Size", 0)),
                    obj["LastModified"].astimezone(UTC),
                )
                for obj in page.get("Contents", [])
                if "Key" in obj and "LastModified" in obj
            ]

    def _delete_prefix_sync(self, prefix: str) -> int:
        batch_size = max(1, min(1000, self.delete_batch_size))
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": batch_size}
        )
        deleted = 0
        for page in pages:
            keys: list[ObjectIdentifierTypeDef] = [
                {"Key": obj["Key"]} for obj in page.get("Contents", []) if "Key" in obj
            ]
            if not keys:
                continue
            response = self._client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
            )
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise RuntimeError(
                    f"S3 refused to delete {len(errors)} of {len(keys)} keys under {prefix!r}: "
                    f"{first.get('Key')!r}: {first.get('Code')} {first.get('Message')}"
                )
            deleted += len(keys)
        return deleted
