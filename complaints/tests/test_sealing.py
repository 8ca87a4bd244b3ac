"""Secrets kept sealed in the database (complaints/sealing.py): webhook
signing secrets and two-step log-in keys sealed with SECRET_KEY, backup
codes kept as keyed digests; what happens when SECRET_KEY changes, with and
without the old key kept in SECRET_KEY_FALLBACKS; reseal_secrets; and the
upgrade from the secrets kept in the clear."""

import logging

import pytest
import time_machine
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken

from complaints import webhooks
from complaints.models import (
    AuthenticatorKey,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from complaints.sealing import Unopened

from . import flows
from .test_two_factor import QUEUE, VERIFY, _code, _log_in, _turned_on

pytestmark = pytest.mark.django_db

OLD_KEY = "old-secret-key-for-tests-only-" + "o" * 40
NEW_KEY = "new-secret-key-for-tests-only-" + "n" * 40


def _stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _secret_in_db(endpoint) -> str:
    return _stored("complaints_webhookendpoint", "secret", endpoint.pk)


def _key_in_db(key) -> str:
    return _stored("complaints_authenticatorkey", "key", key.pk)


@pytest.fixture
def old_key(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    return settings


def _reseal(*args, fails: str = "") -> str:
    """What reseal_secrets prints; ``fails``: the error it must end with."""
    from io import StringIO

    out = StringIO()
    if fails:
        with pytest.raises(CommandError, match=fails):
            call_command("reseal_secrets", *args, stdout=out)
    else:
        call_command("reseal_secrets", *args, stdout=out)
    return out.getvalue()


# Sealed at rest -------------------------------------------------------------


def test_a_webhook_secret_is_sealed_in_the_database_and_signs_in_the_clear(
    agent, order, receiver, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpoint.objects.create(name="ERP", url=receiver.url)
    secret = endpoint.secret
    assert secret.startswith("whsec_")
    stored = _secret_in_db(endpoint)
    assert secret not in stored and stored.startswith("gAAAAA")  # a Fernet token
    assert WebhookEndpoint.objects.get().secret == secret
    with django_capture_on_commit_callbacks(execute=True):
        flows.opened(agent, order)
    [(headers, body)] = receiver.requests
    assert webhooks.verify_signature(secret, headers["Casetracker-Signature"], body)
    # The same secret saved twice is sealed differently (a random IV each time).
    endpoint.save()
    assert _secret_in_db(endpoint) != stored
    assert WebhookEndpoint.objects.get().secret == secret


def test_a_sealed_field_cannot_be_looked_up_by_its_value():
    WebhookEndpoint.objects.create(name="ERP", url="https://erp.example/hook", secret="s3cret")
    with pytest.raises(FieldError, match="Unsupported lookup"):
        list(WebhookEndpoint.objects.filter(secret="s3cret"))
    assert WebhookEndpoint.objects.filter(secret__isnull=False).count() == 1


def test_an_authenticator_key_is_sealed_and_backup_codes_are_kept_as_digests(agent):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        codes = _turned_on(agent, clock)
        key = AuthenticatorKey.objects.get(user=agent)
        assert len(key.key) == 40 and key.key not in _key_in_db(key)
        stored = set(StaticToken.objects.filter(device__user=agent).values_list("token", flat=True))
        assert len(stored) == len(codes) == 10
        assert not stored & set(codes)  # no code in the clear
        client = _log_in(agent)
        assert client.post(VERIFY, {"code": codes[0]}).status_code == 302
        assert client.get(QUEUE).status_code == 200
        assert StaticToken.objects.filter(device__user=agent).count() == 9  # used up
        clock.shift(30)
        client = _log_in(agent)
        assert client.post(VERIFY, {"code": _code(key)}).status_code == 302


# SECRET_KEY changes --------------------------------------------------------------


def test_a_new_secret_key_with_the_old_one_as_fallback_keeps_everything_working(
    agent, order, receiver, old_key, django_capture_on_commit_callbacks
):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        codes = _turned_on(agent, clock)
        endpoint = WebhookEndpoint.objects.create(name="ERP", url=receiver.url)
        secret = endpoint.secret
        old_key.SECRET_KEY, old_key.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
        assert WebhookEndpoint.objects.get().secret == secret
        key = AuthenticatorKey.objects.get(user=agent)
        clock.shift(30)
        assert _log_in(agent).post(VERIFY, {"code": _code(key)}).status_code == 302
        assert _log_in(agent).post(VERIFY, {"code": codes[1]}).status_code == 302

        # A key that took a code was sealed again with the new key on the way.
        check = _reseal("--check", fails="1 secrets still need a key in SECRET_KEY_FALLBACKS")
        assert "WebhookEndpoint.secret: 0 sealed with SECRET_KEY, 1 need a fallback" in check
        assert "AuthenticatorKey.key: 1 sealed with SECRET_KEY, 0 need a fallback" in check
        assert "backup codes made under an older key: 9" in check
        before = _secret_in_db(endpoint)
        assert "WebhookEndpoint.secret: 0 sealed with SECRET_KEY, 1 sealed again (1 written)" in (
            _reseal()
        )
        assert _secret_in_db(endpoint) != before
        assert "WebhookEndpoint.secret: 1 sealed with SECRET_KEY, 0 need" in _reseal("--check")

        # The old key can go: the secrets open with the new one alone.
        old_key.SECRET_KEY_FALLBACKS = []
        assert WebhookEndpoint.objects.get().secret == secret
        clock.shift(30)
        assert _log_in(agent).post(VERIFY, {"code": _code(key)}).status_code == 302
        with django_capture_on_commit_callbacks(execute=True):
            flows.opened(agent, order)
        [(headers, body)] = receiver.requests
        assert webhooks.verify_signature(secret, headers["Casetracker-Signature"], body)


def test_a_lost_secret_key_loses_nothing_and_says_why(
    agent, order, receiver, old_key, admin_user, client, caplog, django_capture_on_commit_callbacks
):
    """SECRET_KEY changed with the old one not kept: no page fails, nothing
    is sent unsigned, no sealed value is overwritten; with the old key put
    back in SECRET_KEY_FALLBACKS everything works again."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _turned_on(agent, clock)
        endpoint = WebhookEndpoint.objects.create(name="ERP", url=receiver.url)
        secret, sealed = endpoint.secret, _secret_in_db(endpoint)
        old_key.SECRET_KEY = NEW_KEY

        # The webhook: not sent, recorded, retried later.
        with (
            caplog.at_level(logging.ERROR, logger="complaints.webhooks"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            flows.opened(agent, order)
        assert receiver.requests == []
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == DeliveryStatus.PENDING
        attempt = delivery.attempt_log.get()
        assert attempt.status_code is None and "SECRET_KEY_FALLBACKS" in attempt.error
        assert "cannot be opened" in caplog.text

        # The admin: the list and the form open; the sealed text is never
        # shown nor saved as a secret; a new secret can be given.
        admin_user.is_staff = True
        admin_user.save()
        client.force_login(admin_user)
        assert client.get("/admin/complaints/webhookendpoint/").status_code == 200
        change = f"/admin/complaints/webhookendpoint/{endpoint.pk}/change/"
        page = client.get(change).content.decode()
        assert sealed not in page and "no longer has" in page
        form = {"name": "ERP", "url": receiver.url, "events": ["case.opened"], "active": "on"}
        refused = client.post(change, {**form, "secret": ""})
        assert refused.status_code == 200 and "no longer has" in refused.content.decode()
        refused = client.post(change, {**form, "secret": sealed})
        assert refused.status_code == 200
        assert _secret_in_db(endpoint) == sealed  # untouched
        # Saving the row in code keeps the sealed text as it was.
        WebhookEndpoint.objects.get().save()
        assert _secret_in_db(endpoint) == sealed
        assert isinstance(WebhookEndpoint.objects.get().secret, Unopened)

        # The two-step code cannot be checked: refused, said in the log.
        key = AuthenticatorKey.objects.get(user=agent)
        assert not key.opens
        clock.shift(30)
        with caplog.at_level(logging.ERROR, logger="casetracker.access"):
            refused = _log_in(agent).post(VERIFY, {"code": "123456"})
        assert refused.status_code == 200
        assert "two-step code not checked" in caplog.text

        assert (
            "AuthenticatorKey.key: 0 sealed with SECRET_KEY, 0 sealed again (0 written), 1 open"
            in (
                _reseal(
                    fails="2 secrets open with no key: put the SECRET_KEY they were sealed with"
                )
            )
        )
        assert _secret_in_db(endpoint) == sealed

        # The old key back as a fallback: all of it works again.
        old_key.SECRET_KEY_FALLBACKS = [OLD_KEY]
        assert WebhookEndpoint.objects.get().secret == secret
        clock.shift(120)  # the retry is due
        assert webhooks.deliver_due() == 1
        [(headers, body)] = receiver.requests
        assert webhooks.verify_signature(secret, headers["Casetracker-Signature"], body)
        key = AuthenticatorKey.objects.get(user=agent)
        clock.shift(30)
        assert _log_in(agent).post(VERIFY, {"code": _code(key)}).status_code == 302

        # Or a new secret given in the admin replaces the lost one.
        old_key.SECRET_KEY_FALLBACKS = []
        saved = client.post(change, {**form, "secret": "whsec_given_again"})
        assert saved.status_code == 302
        assert WebhookEndpoint.objects.get().secret == "whsec_given_again"


# The upgrade ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # migrates back and forth
@pytest.mark.usefixtures("reference_data")
def test_the_upgrade_seals_what_was_kept_in_the_clear_and_the_downgrade_opens_it(agent, migrate_to):
    """Migrations 0052 and 0053: webhook secrets and two-step keys made
    before them (in the clear) are sealed and keep working; backup codes
    become digests and still log in; django-otp's TOTP rows are gone.
    Backwards, the secrets and keys come back in the clear."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from complaints import two_factor

    migrate_to(("complaints", "0051_api_tokens_kept_as_digests"))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO complaints_webhookendpoint (name, url, secret, events, active, created_at)"
            " VALUES ('ERP', 'https://erp.example/hook', 'whsec_from_before', '[]', %s, %s)",
            [True, timezone.now()],
        )
    old = TOTPDevice.objects.create(user=agent, name="authenticator app", confirmed=True)
    backup = StaticDevice.objects.create(user=agent, name="backup codes", confirmed=True)
    StaticToken.objects.create(device=backup, token="abcdefgh")

    migrate_to(("complaints", "0053_two_step_keys_sealed"))
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == "whsec_from_before"
    assert "whsec_from_before" not in _secret_in_db(endpoint)
    assert not TOTPDevice.objects.exists()
    key = AuthenticatorKey.objects.get(user=agent)
    assert key.key == old.key and old.key not in _key_in_db(key) and key.confirmed
    assert key.created_at == old.created_at
    code = TOTP(bytes.fromhex(old.key)).token()
    device, _wait = two_factor.check_code(agent, f"{code:06d}")
    assert device == key
    assert StaticToken.objects.get().token != "abcdefgh"
    device, _wait = two_factor.check_code(agent, "abcd efgh")
    assert device == backup

    migrate_to(("complaints", "0051_api_tokens_kept_as_digests"))
    assert _secret_in_db(endpoint) == "whsec_from_before"
    assert TOTPDevice.objects.get(user=agent).key == old.key
