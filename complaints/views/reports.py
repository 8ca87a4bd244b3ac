"""Root-cause reports: what to fix in the products, pages, suppliers and couriers."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casetracker.database import without_statement_timeout

from .. import workflow
from ..forms import ReportForm
from ..models import Case, RootCauseCategory
from ..queries.reports import (
    monthly_trend,
    open_corrective_actions,
    pareto,
    pareto_groups,
    report_cases,
    top,
)
from .errors import invalid_request
from .redirects import back


def _require_reader(user):
    if not user.has_perm("complaints.view_team"):
        raise PermissionDenied


@login_required
@without_statement_timeout
def root_causes(request):
    _require_reader(request.user)
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("start", (today - timedelta(days=89)).isoformat())
    data.setdefault("end", today.isoformat())
    form = ReportForm(data)
    context = {"form": form, "section": "reports"}
    status = 200
    if form.is_valid():
        cases = report_cases(**form.cleaned_data)
        period = {
            "created_from": form.cleaned_data["start"].isoformat(),
            "created_to": form.cleaned_data["end"].isoformat(),
        }
        leaves = pareto(cases, level="leaf")
        sections = [
            ("pareto-leaf", _("Root causes (Pareto)"), leaves),
            ("pareto-group", _("Groups"), pareto_groups(leaves)),
            ("top-sku", _("Top SKUs"), top(cases, "root_cause_sku")),
            ("top-courier", _("Top couriers"), top(cases, "root_cause_courier")),
            ("top-supplier", _("Top suppliers"), top(cases, "root_cause_supplier")),
        ]
        context.update(
            sections=[
                {
                    "id": chart_id,
                    "title": title,
                    "rows": [(row, _drill(row, period)) for row in rows],
                    "data": [
                        {
                            "label": row.display,
                            "count": row.count,
                            "cumulative": round(row.cumulative, 4),
                            "url": _drill(row, period),
                        }
                        for row in rows
                    ],
                }
                for chart_id, title, rows in sections
            ],
            trend=_trend_chart(
                monthly_trend(cases, start=form.cleaned_data["start"], end=form.cleaned_data["end"])
            ),
            corrective=open_corrective_actions(cases),
            export_query=urlencode({key: value for key, value in data.items() if value}),
            total=sum(row.count for row in sections[0][2]),
        )
    else:
        status = 400
    return render(request, "complaints/reports.html", context, status=status)


def _drill(row, period) -> str:
    """Return the all-cases queue filtered to the cases behind ``row``."""
    if row.pk is None:
        return ""
    query = urlencode({"root_cause": row.pk, **period})
    return f"{reverse('complaints:queue', args=['all'])}?{query}"


def _trend_chart(rows) -> dict:
    groups = {
        group.code: group.label for group in RootCauseCategory.objects.filter(parent__isnull=True)
    }
    months = sorted({row["month"] for row in rows})
    counts = {(row["month"], row["group"]): row["n"] for row in rows}
    return {
        "labels": [month.strftime("%Y-%m") for month in months],
        "datasets": [
            {"label": label, "data": [counts.get((month, code), 0) for month in months]}
            for code, label in groups.items()
        ],
    }


@login_required
@without_statement_timeout
def export(request):
    """The report's statistics, or its cases (``cases=1``), as CSV or XLSX."""
    from django.http import FileResponse, StreamingHttpResponse

    from ..exports import (
        CASE_HEADER,
        GROUP_BY,
        ROOT_CAUSE_HEADER,
        case_csv,
        case_rows,
        record_export,
        root_cause_rows,
        stream_csv,
        write_xlsx,
    )

    if not request.user.has_perm("complaints.export_rootcauses"):
        raise PermissionDenied(_("Only admins export."))
    form = ReportForm(request.GET)
    file_format = request.GET.get("format", "csv")
    group_by = request.GET.get("group_by", "leaf")
    if not form.is_valid() or file_format not in ("csv", "xlsx") or group_by not in GROUP_BY:
        return invalid_request(
            request,
            _("Give a period (start, end), format csv or xlsx and group_by one of: %(choices)s.")
            % {"choices": ", ".join(GROUP_BY)},
        )
    cases = report_cases(**form.cleaned_data)
    want_cases = request.GET.get("cases") == "1"
    if want_cases:
        header, rows, count, kind = CASE_HEADER, case_rows(cases), cases.count(), "cases"
    else:
        rows = root_cause_rows(cases, group_by)
        header, count, kind = ROOT_CAUSE_HEADER, len(rows), f"root_causes_by_{group_by}"
    record_export(
        user=request.user, kind=kind, file_format=file_format, row_count=count,
        filters={**form.cleaned_data, "group_by": group_by},
    )  # fmt: skip
    name = f"{kind}-{form.cleaned_data['start']}-{form.cleaned_data['end']}.{file_format}"
    if file_format == "csv":
        text = case_csv(cases) if want_cases else stream_csv(header, rows)
        response = StreamingHttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return FileResponse(
        write_xlsx(header, rows),
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


SORTS = {
    "name", "handled", "closed", "first_response_median", "first_response_p90",
    "resolution_median", "satisfaction_rate", "revision_rate", "reopen_rate",
    "compensation_per_case", "approval_rate",
}  # fmt: skip


@login_required
@without_statement_timeout
def performance(request):
    """Per agent and for the team: response times, resolution, satisfaction..."""
    from ..queries.performance import TEAM, team_performance

    _require_reader(request.user)
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("start", (today - timedelta(days=29)).isoformat())
    data.setdefault("end", today.isoformat())
    form = ReportForm(data)
    if not form.is_valid():
        return render(
            request, "complaints/performance.html", {"form": form, "section": "reports"},
            status=400,
        )  # fmt: skip
    rows = team_performance(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    team, agents = rows[0], rows[1:]
    sort = request.GET.get("sort", "-handled")
    field = sort.lstrip("-")
    if field in SORTS:
        agents.sort(
            key=lambda row: (
                (getattr(row, field) is None, getattr(row, field) or 0)
                if field != "name"
                else row.name
            ),
            reverse=sort.startswith("-"),
        )
    chart = {
        "labels": [row.name for row in agents],
        "handled": [row.handled for row in agents],
        "satisfaction": [
            round(row.satisfaction_rate * 100) if row.satisfaction_rate is not None else None
            for row in agents
        ],
    }
    return render(
        request,
        "complaints/performance.html",
        {
            "form": form, "team": team, "agents": agents, "sort": sort, "chart": chart,
            "team_key": TEAM, "section": "reports",
        },
    )  # fmt: skip


@login_required
@require_POST
def corrective_done(request, number):
    """Mark a case's corrective action done, from the report."""
    case = get_object_or_404(Case, number=number)
    try:
        workflow.case_complete_corrective_action(
            case=case, actor=request.user, note=request.POST.get("note", "")
        )
    except workflow.StepNotAllowed as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("%(number)s: corrective action done.") % {"number": number})
    return back(request, "complaints:root_causes")
