import pytest

from complaints.models import RootCauseCategory

from .factories import CustomerFactory, OrderFactory, UserFactory


@pytest.fixture
def agent(db):
    return UserFactory(username="agent_a", role="agent")


@pytest.fixture
def agent2(db):
    return UserFactory(username="agent_b", role="agent")


@pytest.fixture
def supervisor(db):
    return UserFactory(username="supervisor_a", role="supervisor")


@pytest.fixture
def supervisor2(db):
    return UserFactory(username="supervisor_b", role="supervisor")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin_a", role="admin")


@pytest.fixture
def outsider(db):
    """A logged-in user with no role."""
    return UserFactory(username="outsider")


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def order(customer):
    return OrderFactory(customer=customer)


@pytest.fixture
def leaf(db):
    return RootCauseCategory.objects.get(code="colour_difference")


@pytest.fixture
def group(db):
    return RootCauseCategory.objects.get(code="product")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Test users need a password, not a slow one: PBKDF2 would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _english_unless_asked(settings):
    # A request leaves its language active in the thread; tests start in English.
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()
