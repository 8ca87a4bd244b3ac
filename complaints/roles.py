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
        "replyedit",
        "marketplacesettings",
        "slapolicy",
        "slacalendar",
        "businesshours",
        "specialday",
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
    "add_review",
    "change_review",
    "redeem_voucher",
]

SUPERVISOR_PERMISSIONS = [
    *AGENT_PERMISSIONS,
    "approve_offer",
    "reassign_case",
    "view_team",
    "void_voucher",
    "view_slaalert",
]

ADMIN_PERMISSIONS = [
    *SUPERVISOR_PERMISSIONS,
    "add_policyrule",
    "change_policyrule",
    "add_marketplacesettings",
    "change_marketplacesettings",
    "add_replytemplate",
    "change_replytemplate",
    "delete_replytemplate",
    "add_rootcausecategory",
    "change_rootcausecategory",
    "add_slapolicy",
    "change_slapolicy",
    "add_slacalendar",
    "change_slacalendar",
    "add_businesshours",
    "change_businesshours",
    "delete_businesshours",
    "add_specialday",
    "change_specialday",
    "delete_specialday",
    "django_tasks_database.view_dbtaskresult",
    # API tokens (knox): list, make (the key shown once), revoke.
    "knox.view_authtoken",
    "knox.add_authtoken",
    "knox.delete_authtoken",
    "view_webhookendpoint",
    "add_webhookendpoint",
    "change_webhookendpoint",
    "view_webhookdelivery",
    "change_webhookdelivery",
    "view_webhookattempt",
    "export_rootcauses",
    "view_exportrecord",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.view_group",
    # Login throttling (django-axes): read the logs, unlock by deleting attempts.
    "axes.view_accessattempt",
    "axes.delete_accessattempt",
    "axes.view_accesslog",
    "axes.view_accessfailurelog",
    # Two-step log-in (django-otp): list the keys, remove a lost phone's
    # (its backup codes go with it).
    "view_authenticatorkey",
    "delete_authenticatorkey",
    "otp_static.view_staticdevice",
    # What was changed in the admin, by whom (Django's log of admin actions).
    "admin.view_logentry",
]

ROLE_PERMISSIONS = {
    AGENT: AGENT_PERMISSIONS,
    SUPERVISOR: SUPERVISOR_PERMISSIONS,
    ADMIN: ADMIN_PERMISSIONS,
}


def _key(dotted):
    """("app_label", "codename") of a listed permission; a bare codename is
    the complaints app's."""
    app_label, _, codename = dotted.rpartition(".")
    return app_label or "complaints", codename


def sync_role_permissions(apps):
    """Create the role groups and give each exactly its permissions."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = {_key(dotted) for codenames in ROLE_PERMISSIONS.values() for dotted in codenames}
    # Every permission the roles name, read at once (one query, not one per
    # name: the sync runs in several migrations and in every transactional
    # test's reference data).
    existing = {
        (permission.content_type.app_label, permission.codename): permission
        for permission in Permission.objects.select_related("content_type").filter(
            content_type__app_label__in={app_label for app_label, _ in wanted},
            codename__in={codename for _, codename in wanted},
        )
    }
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        # A permission not created yet at this point of the migrations is
        # left out: a later migration syncs again (a test checks the final state).
        group.permissions.set(
            [existing[_key(dotted)] for dotted in codenames if _key(dotted) in existing]
        )
