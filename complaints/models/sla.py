"""Service-level agreements: how soon a case must be answered and resolved,
on which working hours, and the warnings and breaches the sweep raised.

The arithmetic on these rows lives in ``complaints.sla``.
"""

import zoneinfo
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from .cases import CaseSource, Priority
from .common import ChoiceLabels, validate_plausible_year

DEFAULT_TIME_ZONE = "Asia/Shanghai"


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("%(value)s is not a time zone name (e.g. Asia/Shanghai)."),
            code="invalid_time_zone",
            params={"value": value},
        ) from exc


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class SlaCalendar(models.Model):
    """The team's working hours: a weekly timetable plus the days that differ
    from it (public holidays, or weekend days worked in their place)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=50,
        default=DEFAULT_TIME_ZONE,
        validators=[validate_time_zone],
    )

    class Meta:
        verbose_name = _("working-hours calendar")
        verbose_name_plural = _("working-hours calendars")
        ordering = ["name"]

    def __str__(self):
        return self.name


def check_span(opens, closes) -> None:
    """Refuse a span that closes before it opens (00:00 closes at midnight)."""
    if opens is None or closes is None:
        return
    ends_at_midnight = closes.hour == closes.minute == 0
    if not ends_at_midnight and closes <= opens:
        raise ValidationError(
            {"closes": _("Closing time must be after opening time.")}, code="order"
        )


class _OpeningTimes(ChoiceLabels, models.Model):
    """A span of working time in one day; ``closes`` 00:00 means midnight."""

    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"), help_text=_("00:00 means midnight (end of day)."))

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        check_span(self.opens, self.closes)


class BusinessHours(_OpeningTimes):
    calendar = models.ForeignKey(
        SlaCalendar, on_delete=models.CASCADE, related_name="hours", verbose_name=_("calendar")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="business_hours_weekday")
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class SpecialDay(models.Model):
    """A date that does not follow the weekly timetable: closed (no opening
    times), or worked with the hours given (a make-up working day)."""

    calendar = models.ForeignKey(
        SlaCalendar,
        on_delete=models.CASCADE,
        related_name="special_days",
        verbose_name=_("calendar"),
    )
    date = models.DateField(_("date"), validators=[validate_plausible_year])
    name = models.CharField(_("name"), max_length=100, blank=True)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(
        _("closes"),
        null=True,
        blank=True,
        help_text=_("Leave both times empty for a day off; 00:00 means midnight."),
    )

    class Meta:
        verbose_name = _("holiday or special day")
        verbose_name_plural = _("holidays and special days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="special_day_once"),
            models.CheckConstraint(
                condition=Q(opens__isnull=True, closes__isnull=True)
                | Q(opens__isnull=False, closes__isnull=False),
                name="special_day_both_times_or_none",
            ),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}".strip()

    @property
    def is_closed(self) -> bool:
        return self.opens is None

    def clean(self):
        super().clean()
        if (self.opens is None) != (self.closes is None):
            raise ValidationError(
                _("Give both opening and closing times, or neither for a day off."),
                code="both_or_none",
            )
        check_span(self.opens, self.closes)


class SlaPolicyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class SlaPolicyManager(models.Manager.from_queryset(SlaPolicyQuerySet)):
    def get_by_natural_key(self, name):
        return self.get(name=name)


# A deadline further off than a year is a typo; and one of 999,999,999 days
# could not even be added to today.
SLA_TIME_MAX = timedelta(days=365)


class SlaPolicy(ChoiceLabels, models.Model):
    """How soon a case from ``source`` at ``priority`` must get its first
    response and its resolution. Empty source or priority match any; the
    most specific active policy wins."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    source = models.CharField(
        _("source"),
        max_length=20,
        choices=CaseSource.choices,
        blank=True,
        help_text=_("Empty: any."),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, null=True, blank=True, help_text=_("Empty: any.")
    )
    first_response_time = models.DurationField(
        _("time to first response"),
        help_text=_("For example 0:30:00, or 1 00:00:00 for a day."),
        validators=[MaxValueValidator(SLA_TIME_MAX)],
    )
    resolution_time = models.DurationField(
        _("time to resolution"), validators=[MaxValueValidator(SLA_TIME_MAX)]
    )
    calendar = models.ForeignKey(
        SlaCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policies",
        verbose_name=_("working hours"),
        help_text=_("Empty: the clocks run around the clock."),
    )
    warn_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the time used)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    active = models.BooleanField(_("active"), default=True)

    objects = SlaPolicyManager()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["source", "priority", "name"]
        constraints = [
            # Coalesce: "any priority" (NULL) must clash with itself too.
            models.UniqueConstraint(
                F("source"),
                Coalesce(F("priority"), Value(0)),
                condition=Q(active=True),
                name="sla_policy_one_active_per_scope",
                violation_error_message=_(
                    "Another active policy already covers this source and priority."
                ),
            ),
            models.CheckConstraint(
                condition=Q(first_response_time__gt=timedelta(0))
                & Q(resolution_time__gt=timedelta(0)),
                name="sla_policy_times_positive",
            ),
            models.CheckConstraint(
                condition=Q(warn_percent__gte=1, warn_percent__lte=99),
                name="sla_policy_warn_percent",
            ),
        ]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.name,)

    def clean(self):
        super().clean()
        errors = {}
        for field in ("first_response_time", "resolution_time"):
            value = getattr(self, field)
            if value is not None and value <= timedelta(0):
                errors[field] = ValidationError(_("Give a time above zero."), code="not_positive")
        if (
            self.first_response_time
            and self.resolution_time
            and self.resolution_time < self.first_response_time
        ):
            errors["resolution_time"] = ValidationError(
                _("Resolution cannot be due before the first response."), code="order"
            )
        if errors:
            raise ValidationError(errors)

    @property
    def specificity(self) -> int:
        return (2 if self.source else 0) + (1 if self.priority is not None else 0)


class SlaClock(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")
    MARKETPLACE = "marketplace", _("Marketplace deadline")


class SlaAlertLevel(models.TextChoices):
    WARNING = "warning", _("At risk")
    BREACH = "breach", _("Breached")


class SlaAlert(ChoiceLabels, models.Model):
    """A warning or breach the sweep raised for one clock of a case.

    Unique per clock, level and due time, so a later sweep never raises the
    same one twice; a due time that moved is a new deadline.
    """

    case = models.ForeignKey("complaints.Case", on_delete=models.PROTECT, related_name="sla_alerts")
    clock = models.CharField(_("clock"), max_length=20, choices=SlaClock.choices)
    level = models.CharField(_("level"), max_length=10, choices=SlaAlertLevel.choices)
    due_at = models.DateTimeField(_("due"))
    raised_at = models.DateTimeField(_("raised"), auto_now_add=True)

    class Meta:
        verbose_name = _("SLA alert")
        verbose_name_plural = _("SLA alerts")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "clock", "level", "due_at"], name="sla_alert_once"
            )
        ]

    def __str__(self):
        return f"{self.case_id} {self.clock} {self.level}"
