"""The REST API for the shop's integrations (``/api/``).

Thin like the pages: parse the request, call one ``workflow`` function (or
run one page step through its form), serialise the result. Errors are one
shape everywhere: ``{"detail": "...", "code": "..."}``, plus ``errors``
(field → messages) for bad input.
"""
