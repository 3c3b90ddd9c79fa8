"""Fixtures of the fault tests: private servers only (see services.py)."""
import pytest

from tests.faults.services import REDIS_SERVER, PrivateRedis, require


@pytest.fixture
def private_redis(tmp_path):
    require(REDIS_SERVER, "redis-server")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()
