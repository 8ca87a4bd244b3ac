from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

app_name = "api"

urlpatterns = [
    path("cases/", views.CaseListView.as_view(), name="cases"),
    path("cases/<str:number>/", views.CaseDetailView.as_view(), name="case"),
    path(
        "cases/<str:number>/transitions/<slug:name>/",
        views.TransitionView.as_view(),
        name="transition",
    ),
    path("cases/<str:number>/contacts/", views.ContactView.as_view(), name="contacts"),
    path("cases/<str:number>/notes/", views.NoteView.as_view(), name="notes"),
    path("cases/<str:number>/evidence/", views.EvidenceView.as_view(), name="evidence"),
    path("cases/<str:number>/offers/", views.OfferCreateView.as_view(), name="offers"),
    path("offers/<int:pk>/approve/", views.OfferApproveView.as_view(), name="offer_approve"),
    path("offers/<int:pk>/reject/", views.OfferRejectView.as_view(), name="offer_reject"),
    path("orders/", views.OrderUpsertView.as_view(), name="orders"),
    path("reviews/", views.ReviewUpsertView.as_view(), name="reviews"),
    path("vouchers/", views.VoucherListView.as_view(), name="vouchers"),
    path("vouchers/<str:code>/", views.VoucherDetailView.as_view(), name="voucher"),
    path("vouchers/<str:code>/redeem/", views.VoucherRedeemView.as_view(), name="voucher_redeem"),
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
