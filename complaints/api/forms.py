"""The pages' forms, fed from JSON: one set of input rules for both.

A JSON body is turned into the string values a form expects (numbers as
text, booleans as the form's yes/no, a category's code or a user's name
where the form takes an id); the form then validates exactly as on the
page. ``form_serializer`` describes a form's fields for the OpenAPI schema.
"""

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ParseError

from ..models import RootCauseCategory

# Where a form takes an id, the API also takes this natural key.
NATURAL_KEYS = {RootCauseCategory: "code"}


def _natural_key(model) -> str | None:
    if model is get_user_model():
        return model.USERNAME_FIELD
    return NATURAL_KEYS.get(model)


def _as_form_value(field: forms.Field, value):
    if isinstance(value, bool):
        if isinstance(field, forms.BooleanField):
            return "true" if value else "false"
        choices = {str(key) for key, _label in getattr(field, "choices", [])}
        if {"yes", "no"} <= choices:
            return "yes" if value else "no"
        return str(value).lower()
    if isinstance(value, int | float | Decimal):
        value = str(value)
    if (
        isinstance(field, forms.ModelChoiceField)
        and isinstance(value, str)
        and value
        and not value.isdigit()
    ):
        model = field.queryset.model
        key = _natural_key(model)
        if key:
            pk = (
                field.queryset.filter(**{key: value}).values_list("pk", flat=True).first()
                if len(value) <= 150
                else None
            )
            return str(pk) if pk is not None else value
    return value


def form_data(payload, form_class, *, unbound=None) -> QueryDict | dict:
    """Return ``payload`` (a JSON object or a multipart QueryDict) as form data.

    A field left out keeps what the page would show in it (``unbound``, the
    form as the page draws it): the case's current values, the defaults.
    """
    if isinstance(payload, QueryDict):
        data = payload.copy()
        for name, value in _initial(unbound).items():
            if name not in data:
                data[name] = value
        return data
    if not isinstance(payload, dict):
        raise ParseError(_("The request body must be a JSON object."))
    # The form's own fields: some narrow their choices per case or user.
    fields = unbound.fields if unbound is not None else form_class.base_fields
    data, errors = {}, {}
    for name, value in payload.items():
        if value is None or name not in fields:
            continue
        if isinstance(value, dict | list):
            errors[name] = [_("Give a single value, not a list or an object.")]
            continue
        data[name] = _as_form_value(fields[name], value)
    for name, value in _initial(unbound).items():
        data.setdefault(name, value)
    if errors:
        raise ValidationError(
            {
                name: [ValidationError(message, code="invalid") for message in messages]
                for name, messages in errors.items()
            }
        )
    return data


def _initial(unbound) -> dict:
    if unbound is None:
        return {}
    values = {}
    for name, field in unbound.fields.items():
        if isinstance(field, forms.FileField):
            continue
        value = unbound.get_initial_for_field(field, name)
        if value is None or value == "":
            continue
        values[name] = getattr(value, "pk", value)
    return values


def validated(form) -> dict:
    """Return the form's cleaned data, or raise its errors as a ValidationError."""
    if not form.is_valid():
        raise ValidationError(
            {
                field: [
                    ValidationError(item["message"], code=item["code"] or "invalid")
                    for item in items
                ]
                for field, items in form.errors.get_json_data().items()
            }
        )
    return form.cleaned_data


def _serializer_field(field: forms.Field) -> serializers.Field:
    common = {"required": field.required, "help_text": str(field.help_text or field.label or "")}
    if isinstance(field, forms.ModelChoiceField):
        key = _natural_key(field.queryset.model)
        hint = _("id") + (f" or {key}" if key else "")
        return serializers.CharField(**common | {"help_text": f"{common['help_text']} ({hint})"})
    if isinstance(field, forms.FileField):
        return serializers.FileField(**common)
    if isinstance(field, forms.BooleanField):
        return serializers.BooleanField(**common)
    if isinstance(field, forms.ChoiceField):
        choices = [(key, label) for key, label in field.choices if key not in ("", None)]
        return serializers.ChoiceField(choices=choices, **common)
    if isinstance(field, forms.DateTimeField):
        return serializers.DateTimeField(**common)
    if isinstance(field, forms.DecimalField):
        return serializers.DecimalField(
            max_digits=field.max_digits or 12,
            decimal_places=field.decimal_places or 2,
            coerce_to_string=False,
            **common,
        )
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(**common)
    return serializers.CharField(max_length=getattr(field, "max_length", None), **common)


def form_serializer(
    form_class, name: str, *, extra=None, files: bool = False
) -> type[serializers.Serializer]:
    """Return a Serializer class that documents ``form_class``'s fields
    (its file fields only when the body is multipart: ``files``)."""
    attrs = {
        field_name: _serializer_field(field)
        for field_name, field in form_class.base_fields.items()
        if field_name != "quick_reply" and (files or not isinstance(field, forms.FileField))
    }
    attrs.update(extra or {})
    return type(name, (serializers.Serializer,), attrs)
