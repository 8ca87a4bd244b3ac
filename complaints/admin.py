"""Django admin: configuration for admins, and a case page whose buttons go
through the workflow functions (so permissions, guards and the audit trail
apply). Direct edits of cases, offers, vouchers and events are not offered."""

import itertools
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models, transaction
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import capfirst, smart_split, unescape_string_literal
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import TransitionNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken, get_digest_token
from knox.settings import CONSTANTS as KNOX
from rest_framework.authtoken.models import TokenProxy

from . import two_factor, workflow
from .api.tokens import READ_ONLY_PREFIX, reads_only
from .forms import AdminLoginForm, BoundedJSONField, NewCaseForm
from .models import (
    AuthenticatorKey,
    BusinessHours,
    Case,
    CaseEvent,
    CaseNumberCounter,
    Contact,
    Customer,
    DeliveryStatus,
    Evidence,
    ExportRecord,
    IdempotencyKey,
    MarketplaceSettings,
    Notification,
    NotificationSettings,
    Offer,
    Order,
    OrderItem,
    PolicyRule,
    ReplyEdit,
    ReplyTemplate,
    Review,
    ReviewReply,
    RootCauseCategory,
    SlaAlert,
    SlaCalendar,
    SlaPolicy,
    SpecialDay,
    Voucher,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    Weekday,
)
from .models.common import validate_plausible_year
from .paging import COUNT_CAP, capped_count
from .policy import conflicting_rules
from .queries.search import search
from .sealing import Unopened
from .sql import distinct_values
from .steps import STEPS_BY_NAME, add_validation_errors, available_steps
from .views.errors import invalid_request
from .views.stepping import process_step

User = get_user_model()


class NoDeleteMixin:
    """Never deleted: cases are cancelled, rules retired, categories
    deactivated, and orders, customers and reviews are what cases point at."""

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyMixin(NoDeleteMixin):
    """Shown, never edited here: these rows change only through the workflow."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SafeAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget, drawn with nothing selected when the
    posted value cannot even be looked up ("x" for a number): Django's own
    queries it as it is and fails with a 500, while the form already says
    the choice is not valid."""

    def optgroups(self, name, value, attr=None):
        try:
            return super().optgroups(name, value, attr)
        except (ValueError, OverflowError):
            return super().optgroups(name, [], attr)


class SafeInputMixin:
    """Every model admin's and inline's input, hardened against typos that
    Django's own fields would turn into a 500: dates outside the plausible
    years (year 1 cannot be converted to UTC), JSON nested too deep, and the
    autocomplete widget above."""

    formfield_overrides = {models.JSONField: {"form_class": BoundedJSONField}}

    def get_search_results(self, request, queryset, search_term):
        # No stored text holds a NUL, and PostgreSQL cannot even compare text
        # with one: the autocomplete's search failed with a 500.
        return super().get_search_results(request, queryset, search_term.replace("\x00", ""))

    def changelist_view(self, request, extra_context=None):
        # Nor can a list filter's value hold one (a courier of "顺丰\x00" was
        # a 500 on PostgreSQL): such a lookup matches nothing, and says so.
        # The search box's NUL is dropped above.
        if any(
            "\x00" in value
            for key, values in request.GET.lists()
            if key != SEARCH_VAR
            for value in values
        ):
            return invalid_request(
                request, _("A filter's value holds a NUL character, which no stored value has.")
            )
        return super().changelist_view(request, extra_context)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(db_field, models.DateField) and formfield is not None:
            formfield.validators = [*formfield.validators, validate_plausible_year]
        return formfield

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ModelAdmin(SafeInputMixin, admin.ModelAdmin):
    @staticmethod
    def changed_fields(obj, *names) -> list:
        """A change message as the admin's own pages write it (the fields'
        names in the default language, shown in the reader's)."""
        with translation.override(None):
            fields = [str(capfirst(obj._meta.get_field(name).verbose_name)) for name in names]
        return [{"changed": {"fields": fields}}]


class IndexedSearchMixin:
    """For a model admin whose search_fields each have a search index
    (migrations 0035, 0038 and 0040): each word of the search is looked up like
    the lists' search box (queries.search), through the indexes, instead of
    Django's one condition ORing the fields across their joins, which
    walked every row (a case's order number among 1M cases: 5.5 s, run
    again for the count, the date filter and the list). Words and quoted
    phrases split as Django's own search splits them, and every word must
    match, as there."""

    def get_search_results(self, request, queryset, search_term):
        paths = list(self.get_search_fields(request))
        beyond_cap = False
        for word in smart_split(search_term.replace("\x00", "")):
            if word.startswith(('"', "'")) and word[0] == word[-1]:
                word = unescape_string_literal(word)
            # each word is looked for among the rows the words before it kept
            queryset, beyond_cap = search(queryset, word, paths)
        # More rows than the count's cap match the whole search: the list
        # need not count them again (LargeTableMixin.get_paginator).
        request.searched_beyond_cap = beyond_cap
        return queryset, False  # forward relations only: no row repeats


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows of the list, as the application's lists
    do (COUNT_CAP, 1000: ten pages of the admin's hundred rows): Django's
    exact count of the rows a search or a filter keeps read all of them on
    each view (a common word among 1M cases: 1.3 s; counting 10,000 of
    them still took 140 ms). Beyond the cap the list says "more than" and
    pages through the first ``cap`` rows; a search or a filter narrows it."""

    cap = COUNT_CAP
    capped = False  # set when counting found more than the cap
    known_beyond = False  # set when the search already found more (nothing to count)

    @cached_property
    def count(self):
        count, self.capped = capped_count(
            self.object_list, self.cap, known_beyond=self.known_beyond
        )
        return count


class LargeTableMixin:
    """For a table that grows with the cases (customers, orders, cases,
    events...): the list counts what it shows up to CappedPaginator.cap,
    never the whole table beside it (Django's "N total", an exact count
    of 10M events took 210 ms), and offers no facet counts (a count per
    filter choice over the whole table)."""

    paginator = CappedPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        # IndexedSearchMixin's search already found more rows than the cap
        paginator.known_beyond = getattr(request, "searched_beyond_cap", False)
        return paginator


class IndexedValuesFilter(admin.AllValuesFieldListFilter):
    """Django's filter by the values a column holds, found along the
    column's index one value after another (a loose index scan: one probe
    per value, at most ``limit`` of them) instead of the DISTINCT of every
    row (an order's courier among 1M orders: 130 ms on each view of the
    list). For a column of the model itself, with an index leading with it."""

    limit = 100

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = distinct_values(model, field.column, self.limit)


class KnownChoicesFilter(admin.SimpleListFilter):
    """A filter by a column (``parameter_name``) offering fixed choices; a
    value that is not one of them is a bad lookup (the admin's "?e=1" page),
    where Django's SimpleListFilter queried it as it was and a rating of
    "abc" was a 500."""

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value not in {str(key) for key, _label in self.lookup_choices}:
            raise IncorrectLookupParameters(f"{self.parameter_name}: not a choice")
        return queryset.filter(**{self.parameter_name: value})


class RatingFilter(KnownChoicesFilter):
    """A review's rating, 1 to 5 stars (the table's constraint): Django's
    own filter read the distinct ratings of every review."""

    title = gettext_lazy("rating")
    parameter_name = "rating"

    def lookups(self, request, model_admin):
        return [(str(stars), f"{stars}★") for stars in range(1, 6)]


class TabularInline(SafeInputMixin, admin.TabularInline):
    pass


class StackedInline(SafeInputMixin, admin.StackedInline):
    pass


admin.site.unregister(User)
# django-otp's own admins show a key (and its QR code) and the backup codes,
# and let an admin make or edit one: replaced by the lists below. Its TOTP
# devices are no longer used (migration 0053 sealed their keys into
# AuthenticatorKey); the app stays installed for that migration.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


class TwoStepFilter(admin.SimpleListFilter):
    title = gettext_lazy("two-step log-in")
    parameter_name = "two_step"

    def lookups(self, request, model_admin):
        return [("on", gettext_lazy("On")), ("off", gettext_lazy("Off"))]

    def queryset(self, request, queryset):
        if self.value() in ("on", "off"):
            return queryset.filter(two_step=self.value() == "on")
        return queryset


@admin.register(User)
class UserAdmin(SafeInputMixin, auth_admin.UserAdmin):
    """Django's user admin with the same hardened input as the others, and
    whether each user logs in in two steps (who still has to turn it on)."""

    list_display = [*auth_admin.UserAdmin.list_display, "two_step"]
    list_filter = [*auth_admin.UserAdmin.list_filter, TwoStepFilter]

    def get_queryset(self, request):
        keys = AuthenticatorKey.objects.filter(user=models.OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(two_step=models.Exists(keys))

    @admin.display(boolean=True, description=gettext_lazy("two-step log-in"), ordering="two_step")
    def two_step(self, user):
        return user.two_step


class TwoStepKeyAdmin(ModelAdmin):
    """The users' keys for the two-step log-in: listed, and deleted when a
    phone is lost (the user's password alone then logs them in, or, where
    their role must have a key, their next log-in sets up a new one). The
    secret is never shown, and nobody but its owner sets one up."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    fields = list_display
    readonly_fields = list_display

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self.delete_queryset(request, type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        """A lost phone's key goes with its backup codes, and its owner is told."""
        for user in {key.user for key in queryset.select_related("user")}:
            two_factor.removed_by_admin(user)


class BackupCodesAdmin(TwoStepKeyAdmin):
    """A user's backup codes: listed (never the codes themselves), and removed
    with their key, not on their own."""

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(AuthenticatorKey, TwoStepKeyAdmin)
admin.site.register(StaticDevice, BackupCodesAdmin)


class OrderItemInline(TabularInline):
    model = OrderItem
    extra = 0


@admin.register(Customer)
class CustomerAdmin(NoDeleteMixin, IndexedSearchMixin, LargeTableMixin, ModelAdmin):
    list_display = ["buyer_id", "display_name", "marketplace", "motive", "temperament"]
    # The shop, then the buyer: unique together, so the admin adds no "-id" and
    # reads the list along their constraint's index instead of sorting
    # every customer (90 ms at 1M cases).
    ordering = ["marketplace", "buyer_id"]
    list_filter = ["marketplace", "motive", "temperament"]
    search_fields = ["buyer_id", "display_name", "phone"]


@admin.register(Order)
class OrderAdmin(NoDeleteMixin, IndexedSearchMixin, LargeTableMixin, ModelAdmin):
    list_display = ["number", "marketplace", "customer", "paid_total", "paid_at", "courier"]
    # A date filter, not date_hierarchy: its list of years read every order
    # on each view (330 ms at 1M).
    list_filter = ["marketplace", ("courier", IndexedValuesFilter), "paid_at"]
    search_fields = ["number", "tracking_number", "customer__buyer_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    inlines = [OrderItemInline]


class ReviewReplyInline(ReadOnlyMixin, StackedInline):
    # Replies are written on the review page (review_reply_save keeps the
    # edits of published replies); here they are shown only.
    model = ReviewReply
    fields = ["text", "status", "author", "published_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Review)
class ReviewAdmin(NoDeleteMixin, IndexedSearchMixin, LargeTableMixin, ModelAdmin):
    list_display = ["external_id", "marketplace", "rating", "customer", "sku", "posted_at"]
    list_filter = [RatingFilter, "marketplace", "revision_outcome"]
    search_fields = ["external_id", "customer__buyer_id", "text", "sku"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "order"]
    inlines = [ReviewReplyInline]


class OfferInline(ReadOnlyMixin, TabularInline):
    model = Offer
    fk_name = "case"
    fields = ["kind", "amount", "min_spend", "approval_status", "policy_note", "outcome"]
    readonly_fields = fields
    extra = 0


class ContactInline(ReadOnlyMixin, TabularInline):
    model = Contact
    fields = ["contacted_at", "channel", "inbound", "outcome", "agent", "notes"]
    readonly_fields = fields
    extra = 0


class EvidenceInline(ReadOnlyMixin, TabularInline):
    model = Evidence
    fields = ["file", "kind", "description", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    extra = 0


class CaseEventInline(ReadOnlyMixin, TabularInline):
    model = CaseEvent
    fields = ["created_at", "actor", "kind", "transition", "from_state", "to_state", "payload"]
    readonly_fields = fields
    extra = 0
    ordering = ["-created_at", "-id"]


@admin.register(Case)
class CaseAdmin(NoDeleteMixin, IndexedSearchMixin, LargeTableMixin, ModelAdmin):
    list_display = [
        "number",
        "summary",
        "state",
        "priority",
        "assignee",
        "customer",
        "created_at",
        "resolution_due",
    ]
    # created_at as a date filter, not date_hierarchy (see OrderAdmin)
    list_filter = ["state", "source", "priority", "category", "assignee", "created_at"]
    search_fields = ["number", "summary", "customer__buyer_id", "order__number"]
    list_select_related = ["assignee", "customer"]
    inlines = [OfferInline, ContactInline, EvidenceInline, CaseEventInline]
    change_form_template = "admin/complaints/case/change_form.html"
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Case._meta.fields]

    def has_change_permission(self, request, obj=None):
        # Cases change through the step buttons only.
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/step/<str:step_name>/",
                self.admin_site.admin_view(self.step_view),
                name="complaints_case_step",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if case is not None:
            extra_context["case_steps"] = [
                {
                    "step": step,
                    "unmet": unmet,
                    "url": reverse("admin:complaints_case_step", args=[case.pk, step.name]),
                }
                for step, unmet in available_steps(case, request.user)
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        """Open a case through the workflow, not by saving a model form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = NewCaseForm(request.POST or None)
        status = 200
        if request.method == "POST" and form.is_valid():
            try:
                case = workflow.case_open(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_validation_errors(form, error)
                status = 400
            else:
                messages.success(request, _("Case %(number)s opened.") % {"number": case.number})
                return redirect("admin:complaints_case_change", case.pk)
        elif request.method == "POST":
            status = 400
        return TemplateResponse(
            request,
            "admin/complaints/case/step_form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Open a case"),
                "form": form,
                "case": None,
            },
            status=status,
        )

    def step_view(self, request, object_id, step_name):
        case = get_object_or_404(Case, pk=object_id)
        step = STEPS_BY_NAME.get(step_name)
        if step is None:
            raise Http404(_("No such step."))
        change_url = reverse("admin:complaints_case_change", args=[case.pk])
        result = process_step(request, case, step)
        if result.done:
            messages.success(request, _("%(step)s: done.") % {"step": step.label})
            return redirect(change_url)
        return TemplateResponse(
            request,
            "admin/complaints/case/step_form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"{case.number}: {step.label}",
                "form": result.form,
                "case": case,
                "step": step,
                "unmet": step.unmet(case),
                "error": result.error,
                "change_url": change_url,
            },
            status=result.status,
        )


@admin.register(Offer)
class OfferAdmin(ReadOnlyMixin, IndexedSearchMixin, LargeTableMixin, ModelAdmin):
    list_display = ["case", "kind", "amount", "approval_status", "proposed_by", "proposed_at"]
    ordering = ["-proposed_at", "-id"]  # the newest first, along offer_proposed_newest
    list_filter = ["approval_status", "kind", "outcome"]
    search_fields = ["case__number"]
    list_select_related = ["case", "proposed_by"]
    actions = ["approve_selected"]

    def has_approve_permission(self, request):
        return request.user.has_perm("complaints.approve_offer")

    @admin.action(description=gettext_lazy("Approve the selected offers"), permissions=["approve"])
    def approve_selected(self, request, queryset):
        """Approve each offer through the workflow: the four-eyes rule and the
        offer's state are checked one by one, and refusals are reported."""
        approved = 0
        for offer in queryset.select_related("case", "proposed_by"):
            try:
                workflow.offer_approve(offer=offer, actor=request.user)
            except (PermissionDenied, ValidationError, TransitionNotAllowed) as error:
                reason = " ".join(getattr(error, "messages", [str(error)]))
                self.message_user(request, f"{offer.case.number}: {reason}", messages.WARNING)
            else:
                approved += 1
        self.message_user(request, _("%(count)s offers approved.") % {"count": approved})

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("complaints.view_offer")


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyMixin, IndexedSearchMixin, LargeTableMixin, ModelAdmin):
    list_display = ["code", "customer", "value", "min_spend", "status", "valid_until"]
    list_filter = ["status"]
    search_fields = ["code", "customer__buyer_id"]
    list_select_related = ["customer"]


class TransitionFilter(KnownChoicesFilter):
    """The state machine's transitions, from its definition: Django's own
    filter listed the distinct values of every event (670 ms at 1M cases,
    10M events)."""

    title = gettext_lazy("transition")
    parameter_name = "transition"

    def lookups(self, request, model_admin):
        state = Case._meta.get_field("state")
        names = sorted({transition.name for transition in state.get_all_transitions(Case)})
        return [(name, name) for name in names]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyMixin, IndexedSearchMixin, LargeTableMixin, ModelAdmin):
    list_display = ["created_at", "case", "kind", "transition", "actor"]
    list_filter = ["kind", TransitionFilter]
    search_fields = ["case__number"]
    list_select_related = ["case", "actor"]


@admin.register(Contact)
class ContactAdmin(ReadOnlyMixin, LargeTableMixin, ModelAdmin):
    list_display = ["contacted_at", "case", "channel", "outcome", "agent"]
    list_filter = ["channel", "outcome"]
    list_select_related = ["case", "agent"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyMixin, LargeTableMixin, ModelAdmin):
    list_display = ["original_name", "case", "kind", "uploaded_by", "uploaded_at"]
    list_select_related = ["case", "uploaded_by"]


class PolicyRuleForm(forms.ModelForm):
    class Meta:
        model = PolicyRule
        fields = [
            "name",
            "kind",
            "category",
            "max_amount",
            "max_share_percent",
            "max_days_since_delivery",
            "active_from",
            "active_until",
        ]

    def clean(self):
        data = super().clean()
        errors = {}
        if data.get("max_amount") is not None and data["max_amount"] <= 0:
            errors["max_amount"] = _("The cap must be greater than zero.")
        share = data.get("max_share_percent")
        if share is not None and not 0 < share <= 100:
            errors["max_share_percent"] = _("The share is between 0 and 100%.")
        if (
            data.get("kind") not in (None, "apology")
            and data.get("max_amount") is None
            and share is None
        ):
            errors["max_amount"] = _("Give a maximum amount, a maximum share, or both.")
        start, end = data.get("active_from"), data.get("active_until")
        if start and end and end <= start:
            errors["active_until"] = _("The rule must end after it starts.")
        if errors:
            raise forms.ValidationError(errors)
        if data.get("kind") and start:
            candidate = PolicyRule(
                pk=self.instance.pk,
                kind=data["kind"],
                category=data.get("category"),
                active_from=start,
                active_until=end,
            )
            others = PolicyRule.objects.filter(kind=data["kind"], category=data.get("category"))
            clashes = conflicting_rules(candidate, others)
            if clashes:
                raise forms.ValidationError(
                    _(
                        "Another rule for this remedy and category is active at the same time: "
                        "%(rules)s. Retire it first (set its “active until”), or give this "
                        "rule a period that does not overlap."
                    )
                    % {"rules": ", ".join(f"“{rule}”" for rule in clashes)},
                    code="conflicting_rule",
                )
        return data


@admin.register(PolicyRule)
class PolicyRuleAdmin(NoDeleteMixin, ModelAdmin):
    form = PolicyRuleForm
    list_display = [
        "name",
        "kind",
        "category",
        "max_amount",
        "max_share_percent",
        "max_days_since_delivery",
        "active_from",
        "active_until",
        "in_force",
    ]
    list_filter = ["kind", "category"]
    actions = ["retire"]

    @admin.display(boolean=True, description=gettext_lazy("in force"))
    def in_force(self, rule):
        now = timezone.now()
        return rule.active_from <= now and (rule.active_until is None or rule.active_until > now)

    def get_readonly_fields(self, request, obj=None):
        # An offer keeps the rule it was judged by: once used, a rule's caps
        # stay as they were; retire it and add a new one instead.
        if obj is not None and obj.offers.exists():
            return [
                "name",
                "kind",
                "category",
                "max_amount",
                "max_share_percent",
                "max_days_since_delivery",
                "active_from",
            ]
        return []

    @admin.action(description=gettext_lazy("Retire the selected rules now"))
    def retire(self, request, queryset):
        now = timezone.now()
        retired = 0
        for rule in queryset.filter(Q(active_until__isnull=True) | Q(active_until__gt=now)):
            rule.active_until = max(now, rule.active_from + timedelta(seconds=1))
            with transaction.atomic():
                rule.save(update_fields=["active_until"])
                # in the admin's log like a change made on the rule's page
                self.log_change(request, rule, self.changed_fields(rule, "active_until"))
            retired += 1
        self.message_user(request, _("%(count)s rules retired.") % {"count": retired})


# API tokens: knox's own admin lists digests and shows a new key in a
# message kept in the session; DRF's lists every key in the clear.
admin.site.unregister(AuthToken)
admin.site.unregister(TokenProxy)


class ApiTokenForm(forms.ModelForm):
    read_only = forms.BooleanField(
        label=gettext_lazy("read only"),
        required=False,
        help_text=gettext_lazy(
            "The token reads what its user may read and changes nothing (its key "
            "starts ct_ro_): for reports and integrations that only fetch."
        ),
    )

    class Meta:
        model = AuthToken
        fields = ["user", "expiry"]


@admin.register(AuthToken)
class ApiTokenAdmin(ModelAdmin):
    """Make a token (its key shown once, on the page that follows), list
    who holds which (by the key's first characters), whether it only reads,
    and until when; revoke one by deleting it. A token is never edited: make
    a new one."""

    form = ApiTokenForm
    list_display = ["token_key", "user", "only_reads", "created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["user__username", "token_key"]
    ordering = ["-created"]
    fields = ["user", "expiry", "read_only"]

    @admin.display(boolean=True, description=gettext_lazy("read only"))
    def only_reads(self, token):
        return reads_only(token)

    def get_readonly_fields(self, request, obj=None):
        return ["token_key", "user", "only_reads", "created", "expiry"] if obj else []

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) or self.fields

    def has_change_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":  # an inactive user's token would never work
            kwargs["queryset"] = User.objects.filter(is_active=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        digest, key = get_digest_token(READ_ONLY_PREFIX if form.cleaned_data["read_only"] else None)
        obj.digest, obj.token_key = digest, key[: KNOX.TOKEN_KEY_LENGTH]
        obj.save()
        request.issued_key = key  # for response_add only: never stored

    @staticmethod
    def label(token) -> str:
        """How the admin's log names a token: the key's first characters, as
        the list shows them, and its holder (knox names it by its digest)."""
        return f"{token.token_key}… ({token.user})"

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        entry.object_repr = self.label(obj)
        entry.save(update_fields=["object_repr"])
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        labels = {str(token.pk): self.label(token) for token in queryset}
        for entry in entries:
            entry.object_repr = labels[entry.object_id]
        LogEntry.objects.bulk_update(entries, ["object_repr"])
        return entries

    def response_add(self, request, obj, post_url_continue=None):
        response = TemplateResponse(
            request,
            "admin/knox/authtoken/issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("The new token's key"),
                "token": obj,
                "key": request.issued_key,
            },
        )
        add_never_cache_headers(response)
        return response


@admin.register(LogEntry)
class AdminActionAdmin(ReadOnlyMixin, LargeTableMixin, ModelAdmin):
    """Every change made in this admin, by anyone: who added, changed or
    deleted which policy rule, user, role, webhook or key, and when. Django
    writes the rows; nobody edits or deletes them here. What agents do on
    cases is in each case's timeline (CaseEvent), not here."""

    list_display = ["action_time", "user", "action", "what", "change"]
    list_filter = ["action_flag", ("content_type", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["object_repr", "user__username"]
    list_select_related = ["user", "content_type"]
    ordering = ["-action_time", "-pk"]

    @admin.display(description=gettext_lazy("action"), ordering="action_flag")
    def action(self, entry):
        return entry.get_action_flag_display()

    @admin.display(description=gettext_lazy("object"))
    def what(self, entry):
        kind = entry.content_type.name if entry.content_type else ""
        url = None if entry.is_deletion() else entry.get_admin_url()
        label = f"{kind}: {entry.object_repr}" if kind else entry.object_repr
        return format_html('<a href="{}">{}</a>', url, label) if url else label

    @admin.display(description=gettext_lazy("change"))
    def change(self, entry):
        return entry.get_change_message()


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, LargeTableMixin, ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "case", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient", "case"]


@admin.register(RootCauseCategory)
class RootCauseCategoryAdmin(NoDeleteMixin, ModelAdmin):
    list_display = ["__str__", "code", "name_zh", "active", "sort_order"]
    list_filter = ["active", "parent"]
    search_fields = ["code", "name", "name_zh"]


@admin.register(OrderItem)
class OrderItemAdmin(NoDeleteMixin, IndexedSearchMixin, LargeTableMixin, ModelAdmin):
    list_display = ["sku", "title", "quantity", "unit_price", "supplier", "order"]
    list_filter = [("supplier", IndexedValuesFilter)]
    search_fields = ["sku", "title", "order__number"]
    list_select_related = ["order"]


@admin.register(ReviewReply)
class ReviewReplyAdmin(ReadOnlyMixin, LargeTableMixin, ModelAdmin):
    list_display = ["review", "status", "author", "published_at"]
    list_filter = ["status"]
    list_select_related = ["review", "author"]


@admin.register(CaseNumberCounter)
class CaseNumberCounterAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["year", "last"]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(ModelAdmin):
    list_display = ["title", "topic", "active", "sort_order"]
    list_filter = ["topic", "active"]
    search_fields = ["title", "body"]
    list_editable = ["active", "sort_order"]


@admin.register(MarketplaceSettings)
class MarketplaceSettingsAdmin(NoDeleteMixin, ModelAdmin):
    list_display = ["marketplace", "reply_window_days", "revision_requests_allowed"]


@admin.register(ReplyEdit)
class ReplyEditAdmin(ReadOnlyMixin, LargeTableMixin, ModelAdmin):
    list_display = ["reply", "edited_by", "edited_at"]
    list_select_related = ["reply", "edited_by"]


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyMixin, LargeTableMixin, ModelAdmin):
    list_display = ["created_at", "user", "kind", "file_format", "row_count"]
    list_filter = ["kind", "file_format"]
    list_select_related = ["user"]


admin.site.site_header = gettext_lazy("casetracker")
admin.site.login_form = AdminLoginForm
admin.site.site_title = gettext_lazy("casetracker")


class BusinessHoursFormSet(BaseInlineFormSet):
    """A calendar needs working time, and one day's spans must not overlap."""

    def clean(self):
        super().clean()
        spans = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("opens") is None:
                continue
            closes = data.get("closes")
            if closes is None:
                continue
            end = (
                (24, 0) if (closes.hour, closes.minute) == (0, 0) else (closes.hour, closes.minute)
            )
            spans.setdefault(data["weekday"], []).append(
                ((data["opens"].hour, data["opens"].minute), end)
            )
        if not spans:
            raise ValidationError(
                _("Give the calendar its working hours (at least one day)."), code="no_hours"
            )
        for weekday, day_spans in spans.items():
            day_spans.sort()
            for (_opens, closes), (next_opens, _closes) in itertools.pairwise(day_spans):
                if next_opens < closes:
                    raise ValidationError(
                        _("The working hours of %(day)s overlap.")
                        % {"day": Weekday(weekday).label},
                        code="overlap",
                    )


class BusinessHoursInline(TabularInline):
    model = BusinessHours
    formset = BusinessHoursFormSet
    extra = 0


class SpecialDayInline(TabularInline):
    model = SpecialDay
    extra = 1


@admin.register(SlaCalendar)
class SlaCalendarAdmin(NoDeleteMixin, ModelAdmin):
    list_display = ["name", "time_zone"]
    inlines = [BusinessHoursInline, SpecialDayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(NoDeleteMixin, ModelAdmin):
    """Editing a policy applies to cases opened or re-prioritised afterwards;
    cases already running keep the due times they were given."""

    list_display = [
        "name",
        "source",
        "priority",
        "first_response_time",
        "resolution_time",
        "calendar",
        "warn_percent",
        "active",
    ]
    list_filter = ["active", "source", "priority", "calendar"]
    list_select_related = ["calendar"]


@admin.register(SlaAlert)
class SlaAlertAdmin(ReadOnlyMixin, IndexedSearchMixin, LargeTableMixin, ModelAdmin):
    list_display = ["raised_at", "case", "clock", "level", "due_at"]
    list_filter = ["level", "clock"]
    list_select_related = ["case"]
    search_fields = ["case__number"]


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(NoDeleteMixin, ModelAdmin):
    list_display = ["user", "email"]
    list_select_related = ["user"]


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("events"),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "active", "secret"]

    UNOPENED = gettext_lazy(
        "This secret was sealed with a SECRET_KEY this server no longer has, so "
        "nothing is sent to this endpoint. Put that key in SECRET_KEY_FALLBACKS, "
        "or give a new secret here (and to the receiver)."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(self.instance.secret, Unopened):
            self.initial["secret"] = ""  # never the sealed text, never saved as a secret
            self.fields["secret"].help_text = self.UNOPENED
            self.fields["secret"].error_messages["required"] = self.UNOPENED

    def clean_secret(self):
        secret = self.cleaned_data.get("secret")
        if isinstance(self.instance.secret, Unopened) and secret == str(self.instance.secret):
            raise forms.ValidationError(self.UNOPENED, code="unopened")
        return secret


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(NoDeleteMixin, ModelAdmin):
    """Endpoints are deactivated, not deleted: their deliveries stay on record."""

    form = WebhookEndpointForm
    list_display = ["name", "url", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]


class WebhookAttemptInline(TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["attempted_at", "status_code", "error", "response_body", "duration_ms"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(NoDeleteMixin, LargeTableMixin, ModelAdmin):
    """What was sent where, each attempt and its answer; failed ones can be retried."""

    list_display = ["created_at", "event_type", "endpoint", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", "event_type", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["event_id"]
    readonly_fields = [
        "endpoint", "event_type", "event_id", "payload", "status", "attempts",
        "next_attempt_at", "delivered_at", "created_at",
    ]  # fmt: skip
    inlines = [WebhookAttemptInline]
    actions = ["retry_now"]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("Retry the selected deliveries now"))
    def retry_now(self, request, queryset):
        from .webhooks import deliver

        retried = queryset.exclude(status=DeliveryStatus.DELIVERED).exclude(
            status=DeliveryStatus.SENDING
        )
        pks = list(retried.values_list("pk", flat=True))
        retried.update(status=DeliveryStatus.PENDING, next_attempt_at=timezone.now())
        delivered = sum(deliver(pk) == "delivered" for pk in pks)
        self.message_user(
            request,
            _("%(delivered)s of %(count)s deliveries delivered.")
            % {"delivered": delivered, "count": len(pks)},
            messages.SUCCESS if delivered == len(pks) else messages.WARNING,
        )


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyMixin, LargeTableMixin, ModelAdmin):
    """The API's remembered requests (for support: why was a POST replayed?)."""

    list_display = ["created_at", "user", "key", "status_code"]
    list_select_related = ["user"]
    search_fields = ["key", "user__username"]
