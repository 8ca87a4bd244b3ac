"""``Idempotency-Key`` on the API's POSTs.

A client that may retry a request (a timeout, a dropped connection) sends a
key of its choosing. The first request with that key runs; a later one with
the same key and the same body gets the first response again (marked
``Idempotent-Replayed: true``) and changes nothing; the same key with a
different body, or on another endpoint, is refused with 422. Keys belong to
their user and are remembered for ``IDEMPOTENCY_KEY_HOURS``.

Only a successful response is remembered: after a refusal (400, 409 ...)
the client may fix the cause and retry with the same key. The key row is
written in the request's transaction, so a concurrent request with the same
key waits for the first one and then replays it (PostgreSQL) or is told the
first one is still running (409).
"""

import functools
import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from ..conf import setting
from ..models import IdempotencyKey
from .errors import error

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def fingerprint(request) -> str:
    """Return a hash of what the request asks for: method, path and body
    (JSON compared by value, so key order and spacing do not matter; files
    by their contents)."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    data = request.data
    if isinstance(data, QueryDict):
        fields = sorted((key, data.getlist(key)) for key in data if key not in request.FILES)
        digest.update(json.dumps(fields, ensure_ascii=False).encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"\n{name}:{upload.name}:{upload.size}:".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode())
    return digest.hexdigest()


def _replay(record: IdempotencyKey) -> Response:
    response = Response(record.response, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(method):
    """Decorate an APIView's ``post`` to honour the ``Idempotency-Key`` header."""

    @functools.wraps(method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return method(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return error(
                _("An Idempotency-Key must be 1 to 255 printable characters."),
                "invalid_idempotency_key",
                400,
            )
        print_ = fingerprint(request)
        with transaction.atomic():
            record, replay = _claim(request.user, key, print_)
            if replay is not None:
                return replay
            try:
                response = method(self, request, *args, **kwargs)
            except Exception as exc:
                response = self.handle_exception(exc)
            if 200 <= response.status_code < 300:
                record.status_code = response.status_code
                record.response = json.loads(JSONRenderer().render(response.data))
                record.save(update_fields=["status_code", "response"])
            else:
                transaction.set_rollback(True)  # forget the key; nothing else was written
        return response

    return wrapper


def _claim(user, key: str, print_: str):
    """Insert the key, or return the response owed to a repeated request."""
    expired = timezone.now() - timedelta(hours=setting("IDEMPOTENCY_KEY_HOURS"))
    IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=expired).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(user=user, key=key, fingerprint=print_), None
    except IntegrityError:
        pass
    record = IdempotencyKey.objects.filter(user=user, key=key).first()
    if record is None:  # expired and removed by a concurrent request meanwhile
        return IdempotencyKey.objects.create(user=user, key=key, fingerprint=print_), None
    if record.fingerprint != print_:
        return None, error(
            _(
                "This Idempotency-Key was used with a different request; "
                "use a new key for a new request."
            ),
            "idempotency_key_reused",
            422,
        )
    if record.status_code is None:
        return None, error(
            _("A request with this Idempotency-Key is still being processed; retry shortly."),
            "idempotency_key_in_progress",
            409,
        )
    return None, _replay(record)
