from django.urls import path

from .views import cases, evidence, offers, queues

app_name = "complaints"

urlpatterns = [
    path("", queues.home, name="home"),
    path("queue/<slug:name>/", queues.queue, name="queue"),
    path("cases/new/", cases.new_case, name="new_case"),
    path("cases/<str:number>/", cases.case_detail, name="case"),
    path("cases/<str:number>/take/", cases.take_case, name="take"),
    path("cases/<str:number>/step/<slug:step_name>/", cases.case_step, name="step"),
    path("cases/<str:number>/offer-check/", offers.offer_check, name="offer_check"),
    path("evidence/<int:pk>/", evidence.evidence_file, name="evidence"),
    path(
        "evidence/<int:pk>/thumbnail/",
        evidence.evidence_file,
        {"variant": "thumbnail"},
        name="evidence_thumbnail",
    ),
]
