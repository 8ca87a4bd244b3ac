"""The three roles and the model permissions each group holds.

The data migration creates the groups from these lists; later migrations
that add permissions call ``sync_role_permissions`` again.
"""

AGENT = "agent"
SUPERVISOR = "supervisor"
ADMIN = "admin"

_READ = [
    f"view_{model}"
    for model in (
        "customer",
        "order",
        "orderitem",
        "review",
        "reviewreply",
        "case",
        "caseevent",
        "evidence",
        "contact",
        "offer",
        "voucher",
        "policyrule",
        "rootcausecategory",
        "replytemplate",
    )
]

AGENT_PERMISSIONS = [
    *_READ,
    "work_case",
    "add_case",
    "change_case",
    "add_customer",
    "change_customer",
    "add_order",
    "change_order",
    "add_orderitem",
    "change_orderitem",
    "add_offer",
    "change_offer",
    "add_contact",
    "add_evidence",
    "add_reviewreply",
    "change_reviewreply",
]

SUPERVISOR_PERMISSIONS = [
    *AGENT_PERMISSIONS,
    "approve_offer",
    "reassign_case",
    "view_team",
]

ADMIN_PERMISSIONS = [
    *SUPERVISOR_PERMISSIONS,
    "add_policyrule",
    "change_policyrule",
    "add_replytemplate",
    "change_replytemplate",
    "delete_replytemplate",
    "add_rootcausecategory",
    "change_rootcausecategory",
    "export_rootcauses",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.view_group",
]

ROLE_PERMISSIONS = {
    AGENT: AGENT_PERMISSIONS,
    SUPERVISOR: SUPERVISOR_PERMISSIONS,
    ADMIN: ADMIN_PERMISSIONS,
}


def sync_role_permissions(apps):
    """Create the role groups and give each exactly its permissions."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for dotted in codenames:
            app_label, codename = dotted.split(".") if "." in dotted else ("complaints", dotted)
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None:
                if _model_not_there_yet(apps, app_label, codename):
                    continue  # a later migration adds the model and syncs again
                raise LookupError(f"Permission {app_label}.{codename} does not exist.")
            permissions.append(permission)
        group.permissions.set(permissions)


def _model_not_there_yet(apps, app_label: str, codename: str) -> bool:
    """Return whether ``codename`` is a default permission of a model that the
    migration state being run does not have yet."""
    action, _sep, model_name = codename.partition("_")
    if action not in {"add", "change", "delete", "view"}:
        return False
    try:
        apps.get_model(app_label, model_name)
    except LookupError:
        return True
    return False
