from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .. import converters  # noqa: F401 (registers <key:…>)
from . import views

app_name = "api"

urlpatterns = [
    path("cases/", views.CaseListView.as_view(), name="cases"),
    path("cases/<key:number>/", views.CaseDetailView.as_view(), name="case"),
    path(
        "cases/<key:number>/transitions/<slug:name>/",
        views.TransitionView.as_view(),
        name="transition",
    ),
    path("cases/<key:number>/contacts/", views.ContactView.as_view(), name="contacts"),
    path("cases/<key:number>/notes/", views.NoteView.as_view(), name="notes"),
    path("cases/<key:number>/evidence/", views.EvidenceView.as_view(), name="evidence"),
    path("cases/<key:number>/offers/", views.OfferCreateView.as_view(), name="offers"),
    path("offers/<int:pk>/approve/", views.OfferApproveView.as_view(), name="offer_approve"),
    path("offers/<int:pk>/reject/", views.OfferRejectView.as_view(), name="offer_reject"),
    path("orders/", views.OrderUpsertView.as_view(), name="orders"),
    path("reviews/", views.ReviewUpsertView.as_view(), name="reviews"),
    path("vouchers/", views.VoucherListView.as_view(), name="vouchers"),
    path("vouchers/<key:code>/", views.VoucherDetailView.as_view(), name="voucher"),
    path("vouchers/<key:code>/redeem/", views.VoucherRedeemView.as_view(), name="voucher_redeem"),
    path("reports/root-causes/", views.RootCauseReportView.as_view(), name="root_causes"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not_found"),
]
