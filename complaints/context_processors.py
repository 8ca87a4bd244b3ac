"""What every page's navigation needs to know about the user."""


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "works_cases": user.has_perm("complaints.work_case"),
            "supervises": user.has_perm("complaints.view_team"),
            "admin_site": user.is_staff,
        }
    }
