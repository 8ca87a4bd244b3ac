"""The two-level root-cause taxonomy: four groups and their leaves."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class RootCauseCategoryManager(models.Manager):
    def get_by_natural_key(self, code):
        return self.get(code=code)

    def leaves(self):
        return self.filter(parent__isnull=False, active=True)


class RootCauseCategory(models.Model):
    """A group (no parent) or a leaf under a group; cases record leaves."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("group"),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    objects = RootCauseCategoryManager()

    class Meta:
        verbose_name = _("root-cause category")
        verbose_name_plural = _("root-cause categories")
        ordering = ["sort_order", "code"]

    def __str__(self):
        label = self.label
        return f"{self.parent.label} › {label}" if self.parent_id else label

    def natural_key(self):
        return (self.code,)

    @property
    def label(self) -> str:
        """Return the name in the active language."""
        if self.name_zh and (get_language() or "").startswith("zh"):
            return self.name_zh
        return self.name

    @property
    def is_leaf(self) -> bool:
        return self.parent_id is not None

    @property
    def group(self):
        return self.parent if self.parent_id else self

    def keys_covered(self) -> list[int]:
        """Its own key and its leaves' (a group stands for its leaves): what
        a filter on it asks for, as a list of keys the database estimates
        from its statistics and reads through the case's key index. As a
        join ("this one, or its parent is this one") PostgreSQL could do
        neither, and walked the queue's order: a root cause among the open
        cases at 1M took 560 ms, for none."""
        if self.parent_id:  # a leaf has no leaves (clean)
            return [self.pk]
        children = RootCauseCategory.objects.filter(parent=self.pk).values_list("pk", flat=True)
        return [self.pk, *children]

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.parent_id and self.parent.parent_id:
            raise ValidationError(
                {"parent": _("The taxonomy has two levels: a leaf's group must be top-level.")},
                code="too_deep",
            )
        if self.parent_id and self.pk and self.children.exists():
            raise ValidationError(
                {"parent": _("A group with leaves cannot itself become a leaf.")},
                code="group_has_children",
            )
