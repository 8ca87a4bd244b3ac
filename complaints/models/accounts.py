"""A user's key for the two-step log-in (complaints/two_factor.py).

django-otp's own TOTP device keeps the key in the clear, so a copy of the
database gave every second step away. This device checks the same codes
(RFC 6238: 30-second steps, six digits, one step either side, each step's
code once) with the key sealed (complaints/sealing.py). The backup codes
stay django-otp's static device, kept as keyed digests (two_factor.py).
"""

import time
from base64 import b32encode
from binascii import unhexlify
from os import urandom
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from ..sealing import SealBroken, SealedField, Unopened


def new_authenticator_key() -> str:
    return urandom(20).hex()


class AuthenticatorKey(TimestampMixin, ThrottlingMixin, Device):
    key = SealedField(_("secret key"), default=new_authenticator_key)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(
        default=-1, help_text=_("The time step of the last code taken: each code works once.")
    )

    class Meta(Device.Meta):
        verbose_name = _("two-step log-in key")
        verbose_name_plural = _("two-step log-in keys")

    @property
    def opens(self) -> bool:
        """Whether the key opens with SECRET_KEY or a fallback."""
        return not isinstance(self.key, Unopened)

    @property
    def bin_key(self) -> bytes:
        if not self.opens:
            raise SealBroken(f"the two-step log-in key of user {self.user_id}")
        return unhexlify(self.key.encode())

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        """Whether ``token`` is the code of this step (or one either side)
        and later than the last code taken; a wrong code counts towards the
        lock, and a locked key takes none."""
        if not self.verify_is_allowed()[0]:
            return False
        verified = False
        if str(token).isdigit() and self.opens:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(int(token), self.tolerance, self.last_t + 1)
        if verified:
            self.last_t = totp.t()
            self.drift = totp.drift
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment(commit=True)
        return verified

    @property
    def config_url(self) -> str:
        """The otpauth:// address an authenticator app scans."""
        issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
        label = f"{issuer}:{self.user.get_username()}"
        params = {
            "secret": b32encode(self.bin_key).decode(),
            "algorithm": "SHA1",
            "digits": self.digits,
            "period": self.step,
        }
        return f"otpauth://totp/{quote(label)}?{urlencode(params)}&issuer={quote(issuer)}"
