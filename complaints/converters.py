"""URL converters."""

from django.urls import register_converter


class KeyConverter:
    """A case number or a voucher code in a URL: any text but a slash or a NUL
    character. PostgreSQL cannot even compare text holding a NUL, so a path
    with one would fail with a 500 where an unknown key gets a 404."""

    regex = "[^/\x00]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(KeyConverter, "key")
