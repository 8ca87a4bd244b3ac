"""One form per workflow step. Forms check shape; the workflow enforces rules."""

import re
from decimal import Decimal

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.core.validators import MaxLengthValidator
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import (
    REPLY_MAX_LENGTH,
    ApprovalStatus,
    CaseSource,
    ContactChannel,
    ContactOutcome,
    Customer,
    Marketplace,
    Offer,
    OfferOutcome,
    Order,
    Priority,
    RemedyKind,
    ReplyTemplate,
    ResponsibleParty,
    Review,
    RevisionOutcome,
    RootCauseCategory,
    Severity,
)
from .models.case_rules import offers_to_decide
from .models.common import validate_plausible_year
from .people import case_workers

User = get_user_model()

BLANK = [("", "---------")]


class StyledFormMixin:
    """Labels start with a capital (as model forms' do) and widgets carry
    Bootstrap's classes; rendered by templates/complaints/forms/div.html."""

    template_name = "complaints/forms/div.html"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.label = capfirst(field.label)
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class StepForm(StyledFormMixin, forms.Form):
    """A form for one step on one case, for one user."""

    def __init__(self, *args, case=None, user=None, **kwargs):
        self.case = case
        self.user = user
        super().__init__(*args, **kwargs)


class EmptyStepForm(StepForm):
    """A step that needs nothing but a click (propose, mark executed, close)."""


class OrderLookupForm(forms.Form):
    number = forms.CharField(
        min_length=3,
        max_length=64,
        label=_("Order number"),
        help_text=_("At least 3 characters of the marketplace order number."),
    )


class NewCaseForm(StyledFormMixin, forms.Form):
    """Open a case: from an order, from a review, or for a customer by nickname."""

    order = forms.ModelChoiceField(
        Order.objects.all(), required=False, widget=forms.HiddenInput, label=_("order")
    )
    review = forms.ModelChoiceField(
        Review.objects.all(), required=False, widget=forms.HiddenInput, label=_("review")
    )
    marketplace = forms.ChoiceField(
        choices=BLANK + Marketplace.choices, required=False, label=_("marketplace")
    )
    buyer_id = forms.CharField(
        max_length=100,
        required=False,
        label=_("customer nickname"),
        help_text=_("Only when the case has no order."),
    )
    source = forms.ChoiceField(choices=CaseSource.choices, label=_("source"))
    summary = forms.CharField(max_length=200, label=_("summary"))
    demand = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("customer's demand")
    )
    priority = forms.TypedChoiceField(
        choices=Priority.choices, coerce=int, initial=Priority.NORMAL, label=_("priority")
    )
    marketplace_due = forms.DateTimeField(
        required=False,
        label=_("platform deadline"),
        help_text=_("A dispute's deadline on the marketplace (YYYY-MM-DD HH:MM), if it has one."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        validators=[validate_plausible_year],
    )

    def clean(self):
        data = super().clean()
        order, review = data.get("order"), data.get("review")
        if review is not None:
            data["customer"] = review.customer
        elif order is not None:
            data["customer"] = order.customer
        elif data.get("marketplace") and data.get("buyer_id"):
            customer = Customer.objects.filter(
                marketplace=data["marketplace"], buyer_id=data["buyer_id"].strip()
            ).first()
            if customer is None:
                self.add_error(
                    "buyer_id",
                    forms.ValidationError(
                        _("No customer with this nickname on this marketplace."),
                        code="unknown_customer",
                    ),
                )
            data["customer"] = customer
        else:
            raise forms.ValidationError(
                _("Choose an order, or give the customer's marketplace and nickname."),
                code="no_customer",
            )
        data.pop("marketplace", None)
        data.pop("buyer_id", None)
        return data


class DetailsForm(StepForm):
    summary = forms.CharField(max_length=200, label=_("summary"))
    demand = forms.CharField(widget=forms.Textarea, required=False, label=_("customer's demand"))
    description = forms.CharField(
        widget=forms.Textarea, required=False, label=_("the customer's account")
    )
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, label=_("priority"))
    marketplace_due = forms.DateTimeField(
        required=False,
        label=_("platform deadline"),
        help_text=_("A dispute's deadline on the marketplace (YYYY-MM-DD HH:MM), if it has one."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        validators=[validate_plausible_year],
    )

    def __init__(self, *args, case=None, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "summary": case.summary,
                "demand": case.demand,
                "description": case.description,
                "priority": case.priority,
                "marketplace_due": case.marketplace_due,
            },
        )
        super().__init__(*args, case=case, **kwargs)
        if case.review_id:  # the review's reply window is the platform's deadline
            del self.fields["marketplace_due"]


class QuickReplyField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            ReplyTemplate.objects.filter(active=True),
            required=False,
            label=_("quick reply"),
            empty_label=_("(choose a quick reply)"),
            **kwargs,
        )


class ConfirmForm(StepForm):
    demand = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("customer's demand"),
        help_text=_("Exactly what the customer asks for."),
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label=_("the customer's account"),
        help_text=_("The whole story, the key facts, what went wrong."),
    )
    evidence = forms.FileField(
        required=False,
        label=_("evidence (photo or PDF)"),
        help_text=_("Optional: a photo of the damage, the parcel or the weight record."),
    )

    def __init__(self, *args, case=None, **kwargs):
        kwargs.setdefault("initial", {"demand": case.demand, "description": case.description})
        super().__init__(*args, case=case, **kwargs)


class AnalyzeForm(StepForm):
    category = forms.ModelChoiceField(
        RootCauseCategory.objects.filter(active=True).select_related("parent"),
        label=_("category"),
    )
    severity = forms.TypedChoiceField(choices=Severity.choices, coerce=int, label=_("severity"))
    responsible_party = forms.ChoiceField(
        choices=BLANK + ResponsibleParty.choices, required=False, label=_("responsible party")
    )

    def __init__(self, *args, case=None, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "category": case.category_id,
                "severity": case.severity,
                "responsible_party": case.responsible_party,
            },
        )
        super().__init__(*args, case=case, **kwargs)


class OfferForm(StepForm):
    kind = forms.ChoiceField(choices=RemedyKind.choices, label=_("remedy"))
    amount = forms.DecimalField(
        max_digits=10, decimal_places=2, required=False, label=_("amount (¥)")
    )
    min_spend = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        required=False,
        label=_("minimum spend (¥)"),
        help_text=_("Vouchers only, e.g. 300 for “50 off 300”."),
    )
    description = forms.CharField(max_length=255, required=False, label=_("terms for the customer"))
    reasoning = forms.CharField(
        widget=forms.Textarea, required=False, label=_("your reasoning (for the supervisor)")
    )


class OfferChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} — {obj.get_approval_status_display()}"


class AcceptForm(StepForm):
    offer = OfferChoiceField(Offer.objects.none(), label=_("the customer chose"))

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.fields["offer"].queryset = Offer.objects.filter(
            case=case,
            outcome=OfferOutcome.OPEN,
            approval_status__in=[ApprovalStatus.NOT_NEEDED, ApprovalStatus.APPROVED],
        )


class OfferDecisionForm(StepForm):
    offer = OfferChoiceField(Offer.objects.none(), label=_("offer"))
    note = forms.CharField(widget=forms.Textarea, required=False, label=_("note"))

    def __init__(self, *args, case=None, user=None, **kwargs):
        super().__init__(*args, case=case, user=user, **kwargs)
        self.fields["offer"].queryset = offers_to_decide(user).filter(case=case)


class VoucherForm(StepForm):
    valid_days = forms.IntegerField(
        min_value=1, max_value=365, initial=30, label=_("valid for (days)")
    )


class ExecutionForm(StepForm):
    reference = forms.CharField(max_length=100, label=_("refund reference or tracking number"))


class ContactForm(StepForm):
    quick_reply_field = "notes"

    channel = forms.ChoiceField(choices=ContactChannel.choices, label=_("channel"))
    outcome = forms.ChoiceField(choices=ContactOutcome.choices, label=_("outcome"))
    inbound = forms.BooleanField(required=False, label=_("the customer contacted us"))
    quick_reply = QuickReplyField()
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label=_("notes")
    )
    contacted_at = forms.DateTimeField(
        required=False,
        label=_("time"),
        help_text=_("Leave empty for now."),
        validators=[validate_plausible_year],
    )


class SatisfactionForm(StepForm):
    satisfied = forms.TypedChoiceField(
        choices=[("yes", _("Satisfied")), ("no", _("Not satisfied"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        label=_("the customer is"),
    )
    score = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)], coerce=int, label=_("score (1–5)")
    )
    comment = forms.CharField(widget=forms.Textarea, required=False, label=_("comment"))


class RevisionRequestForm(StepForm):
    channel = forms.ChoiceField(choices=ContactChannel.choices, label=_("asked via"))
    note = forms.CharField(widget=forms.Textarea, required=False, label=_("note"))


class RevisionOutcomeForm(StepForm):
    outcome = forms.ChoiceField(
        choices=[c for c in RevisionOutcome.choices if c[0]], label=_("outcome")
    )
    revised_rating = forms.TypedChoiceField(
        choices=BLANK + [(n, str(n)) for n in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
        label=_("new rating"),
    )


class LeafChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class RootCauseForm(StepForm):
    root_cause = LeafChoiceField(
        RootCauseCategory.objects.leaves().select_related("parent"), label=_("root cause")
    )
    sku = forms.CharField(max_length=64, required=False, label=_("SKU"))
    courier = forms.CharField(max_length=50, required=False, label=_("courier"))
    supplier = forms.CharField(max_length=100, required=False, label=_("supplier"))
    party = forms.ChoiceField(
        choices=BLANK + ResponsibleParty.choices, required=False, label=_("responsible party")
    )
    corrective_action = forms.CharField(
        widget=forms.Textarea, required=False, label=_("corrective action")
    )

    def __init__(self, *args, case=None, **kwargs):
        initial = {"party": case.responsible_party}
        if case.category_id and case.category.is_leaf:
            initial["root_cause"] = case.category_id
        if case.order_id:
            initial["courier"] = case.order.courier
            item = case.order.items.first()
            if item is not None:
                initial.update(sku=item.sku, supplier=item.supplier)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, case=case, **kwargs)


class ReasonForm(StepForm):
    reason = forms.CharField(widget=forms.Textarea, label=_("reason"))


class OptionalReasonForm(StepForm):
    reason = forms.CharField(widget=forms.Textarea, required=False, label=_("reason"))


class NoteForm(StepForm):
    quick_reply_field = "text"

    quick_reply = QuickReplyField()
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label=_("note"))


class EvidenceForm(StepForm):
    file = forms.FileField(label=_("photo or file"))
    description = forms.CharField(max_length=200, required=False, label=_("description"))


class AssignForm(StepForm):
    assignee = forms.ModelChoiceField(
        User.objects.none(), required=False, label=_("assignee"), empty_label=_("(unassigned)")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = case_workers()
        self.fields["assignee"].initial = self.case.assignee_id


class DecisionForm(StyledFormMixin, forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("note")
    )


class BulkForm(StyledFormMixin, forms.Form):
    ASSIGN, RAISE = "assign", "raise"

    action = forms.ChoiceField(
        choices=[(ASSIGN, _("Assign to")), (RAISE, _("Raise priority"))], label=_("action")
    )
    assignee = forms.ModelChoiceField(
        User.objects.none(), required=False, label=_("agent"), empty_label=_("(unassigned)")
    )
    cases = forms.CharField(widget=forms.MultipleHiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = case_workers()

    def clean(self):
        data = super().clean()
        numbers = self.data.getlist("cases") if hasattr(self.data, "getlist") else []
        if not numbers:
            raise forms.ValidationError(_("Select at least one case."), code="no_cases")
        data["cases"] = numbers
        return data


class RedeemForm(StyledFormMixin, forms.Form):
    order_number = forms.CharField(max_length=64, label=_("order number"))
    amount = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        label=_("order value (¥)"),
        help_text=_("What the voucher was applied to; empty for the order's paid total."),
    )

    def __init__(self, *args, voucher=None, **kwargs):
        self.voucher = voucher
        super().__init__(*args, **kwargs)

    def clean_order_number(self):
        number = self.cleaned_data["order_number"].strip()
        orders = Order.objects.filter(number=number)
        if self.voucher is not None:
            orders = orders.filter(customer=self.voucher.customer) or orders
        order = orders.first()
        if order is None:
            raise forms.ValidationError(_("No order with this number."), code="unknown_order")
        self.cleaned_data["order"] = order
        return number


class VoidForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("reason"))


class ReplyForm(StyledFormMixin, forms.Form):
    """The shop's public reply to a review."""

    quick_reply_field = "text"

    quick_reply = QuickReplyField()
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": REPLY_MAX_LENGTH}),
        max_length=REPLY_MAX_LENGTH,
        label=_("public reply"),
        help_text=_("Future buyers read this. At most 500 characters."),
    )


class ReportForm(StyledFormMixin, forms.Form):
    """The root-cause report's period and filters."""

    start = forms.DateField(
        label=_("from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_plausible_year],
    )
    end = forms.DateField(
        label=_("until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_plausible_year],
    )
    category = forms.ModelChoiceField(
        RootCauseCategory.objects.select_related("parent"), required=False, label=_("category")
    )
    sku = forms.CharField(max_length=64, required=False, label=_("SKU"))
    courier = forms.CharField(max_length=50, required=False, label=_("courier"))
    supplier = forms.CharField(max_length=100, required=False, label=_("supplier"))
    source = forms.ChoiceField(
        choices=BLANK + CaseSource.choices, required=False, label=_("source")
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(_("The period ends before it starts."), code="period")
        return data


class BoundedJSONField(forms.JSONField):
    """Django's JSON form field, refusing what it would let through to a 500:
    JSON nested too deep to decode (ten thousand "["), and a NUL character
    ("\\u0000") in a string, which PostgreSQL's jsonb cannot store."""

    def to_python(self, value):
        try:
            decoded = super().to_python(value)
        except RecursionError as error:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": "…"}
            ) from error
        pending = [decoded]
        while pending:  # every string, key or value, at any depth
            item = pending.pop()
            if isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, str) and "\x00" in item:
                raise forms.ValidationError(
                    _("Null characters are not allowed."), code="null_characters_not_allowed"
                )
        return decoded

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)


class BoundedUsernameMixin:
    """Django's login forms set the user name's max_length after building the
    field, so the length is never checked and any text reaches authenticate()
    (and the login-throttling log, whose column it overflows on PostgreSQL).
    Check it before anything is looked up."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length or 150))


class LoginForm(BoundedUsernameMixin, AuthenticationForm):
    pass


class AdminLoginForm(BoundedUsernameMixin, AdminAuthenticationForm):
    pass


class PasswordChangeForm(StyledFormMixin, DjangoPasswordChangeForm):
    """Django's: the current password, then the new one twice, checked by
    AUTH_PASSWORD_VALIDATORS; drawn like the application's other forms."""


class CodeForm(StyledFormMixin, forms.Form):
    """A code for the two-step log-in: six digits from the authenticator app,
    or (where ``backup`` allows it) one of the backup codes. Whether the code
    is right is the view's to check (complaints.two_factor.check_code)."""

    code = forms.CharField(
        label=pgettext_lazy("two-step log-in", "code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, backup=True, **kwargs):
        self.backup = backup
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = (
            _("The six digits your authenticator app shows now, or one of your backup codes.")
            if backup
            else _("The six digits your authenticator app shows now.")
        )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split()).lower()
        if not self.backup and not re.fullmatch(r"[0-9]{6}", code):
            raise forms.ValidationError(_("Enter the six digits the app shows."))
        if not re.fullmatch(r"[0-9]{6}|[a-z2-7]{8}", code):
            raise forms.ValidationError(
                _("Enter the six digits from the app, or a backup code (eight characters).")
            )
        return code
