import pytest

from tests.gateways.logstore import Store, port_open

VENDORS = ["sqlite", "postgresql", pytest.param("mysql", marks=pytest.mark.mysql)]


def _store(vendor, tmp_path):
    if vendor == "postgresql" and not port_open(5432):
        pytest.skip("needs PostgreSQL at 127.0.0.1:5432")
    if vendor == "mysql" and not port_open(3306):
        pytest.skip("needs MySQL or MariaDB at 127.0.0.1:3306")
    return Store(vendor, tmp_path)


@pytest.fixture(params=VENDORS)
def store(request, tmp_path):
    """An empty gateway log database of each kind (PostgreSQL and MariaDB when they are up)."""
    s = _store(request.param, tmp_path)
    yield s
    s.close()


@pytest.fixture(params=VENDORS[1:])
def server_store(request, tmp_path):
    """The same, of the kinds with a server (users, passwords)."""
    s = _store(request.param, tmp_path)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path):
    s = Store("sqlite", tmp_path)
    yield s
    s.close()
