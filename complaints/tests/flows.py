"""Drive a case through the routine with the workflow functions, step by step."""

from decimal import Decimal

from complaints import workflow
from complaints.models import ContactChannel, ContactOutcome, RootCauseCategory, Severity


def opened(agent, order, **kwargs):
    kwargs.setdefault("source", "chat")
    kwargs.setdefault("summary", "裙子颜色与图片不符")
    kwargs.setdefault("demand", "希望补偿")
    return workflow.case_open(actor=agent, customer=order.customer, order=order, **kwargs)


def analyzing(agent, order, *, category="colour_difference"):
    case = workflow.case_confirm(case=opened(agent, order), actor=agent)
    return workflow.case_analyze(
        case=case,
        actor=agent,
        category=RootCauseCategory.objects.get(code=category),
        severity=Severity.MODERATE,
    )


def proposing(agent, order, *, kind="voucher", amount=Decimal("20"), **offer_kwargs):
    case = analyzing(agent, order)
    offer = workflow.offer_propose(case=case, actor=agent, kind=kind, amount=amount, **offer_kwargs)
    return workflow.case_propose(case=case, actor=agent), offer


def executing(agent, order, **kwargs):
    case, offer = proposing(agent, order, **kwargs)
    return workflow.case_accept_offer(case=case, offer=offer, actor=agent), offer


def verifying(agent, order, **kwargs):
    case, offer = executing(agent, order, **kwargs)
    if offer.kind == "voucher":
        workflow.voucher_issue(case=case, actor=agent)
    elif offer.kind != "apology":
        workflow.offer_record_execution(case=case, actor=agent, reference="REF-1")
    return workflow.case_mark_executed(case=case, actor=agent), offer


def followed_up(agent, case):
    workflow.case_record_contact(
        case=case,
        actor=agent,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.REACHED,
        notes="回访：客户满意",
    )
    return case


def root_cause(agent, order, **kwargs):
    case, _offer = verifying(agent, order, **kwargs)
    followed_up(agent, case)
    return workflow.case_record_satisfaction(case=case, actor=agent, satisfied=True, score=5)


def closed(agent, order, **kwargs):
    case = root_cause(agent, order, **kwargs)
    workflow.case_record_root_cause(
        case=case,
        actor=agent,
        root_cause=RootCauseCategory.objects.get(code="colour_difference"),
        sku="DRESS-RED-M",
        corrective_action="重拍商品主图",
    )
    return workflow.case_close(case=case, actor=agent)
