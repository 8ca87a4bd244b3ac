from django.urls import path

from . import converters  # noqa: F401 (registers <key:…>)
from .views import (
    cases,
    evidence,
    money,
    notifications,
    offers,
    queues,
    reports,
    reviews,
    supervisor,
)

app_name = "complaints"

urlpatterns = [
    path("", queues.home, name="home"),
    path("queue/<slug:name>/", queues.queue, name="queue"),
    path("cases/new/", cases.new_case, name="new_case"),
    path("cases/<key:number>/", cases.case_detail, name="case"),
    path("cases/<key:number>/take/", cases.take_case, name="take"),
    path("cases/<key:number>/step/<slug:step_name>/", cases.case_step, name="step"),
    path("cases/<key:number>/offer-check/", offers.offer_check, name="offer_check"),
    path("queue-bulk/", supervisor.bulk, name="bulk"),
    path("reviews/", reviews.inbox, name="reviews"),
    path("reviews/<int:pk>/", reviews.review_detail, name="review"),
    path("approvals/", supervisor.approvals, name="approvals"),
    path("approvals/<int:pk>/<str:decision>/", supervisor.decide, name="decide"),
    path("team/", supervisor.team, name="team"),
    path("team/deadlines/", supervisor.deadlines, name="deadlines"),
    path("reports/root-causes/", reports.root_causes, name="root_causes"),
    path("reports/root-causes/export/", reports.export, name="export_root_causes"),
    path("reports/team/", reports.performance, name="performance"),
    path(
        "reports/corrective/<key:number>/done/",
        reports.corrective_done,
        name="corrective_done",
    ),
    path("vouchers/", money.ledger, name="vouchers"),
    path("vouchers/<key:code>/", money.voucher_detail, name="voucher"),
    path("vouchers/<key:code>/redeem/", money.voucher_redeem, name="voucher_redeem"),
    path("vouchers/<key:code>/void/", money.voucher_void, name="voucher_void"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.mark_read, name="notifications_read"),
    path(
        "notifications/settings/",
        notifications.notification_settings,
        name="notification_settings",
    ),
    path("evidence/<int:pk>/", evidence.evidence_file, name="evidence"),
    path(
        "evidence/<int:pk>/thumbnail/",
        evidence.evidence_file,
        {"variant": "thumbnail"},
        name="evidence_thumbnail",
    ),
]
