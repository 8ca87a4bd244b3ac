from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """Send the user to where cases are worked (the admin, until the workspace lands)."""
    return redirect("admin:complaints_case_changelist")
