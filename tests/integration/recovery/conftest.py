from tests.support.s3_server import s3_endpoint

__all__ = ["s3_endpoint"]  # the session-wide moto server fixture, re-exported for pytest
