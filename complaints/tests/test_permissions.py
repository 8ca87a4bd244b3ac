"""Roles: who may do what, including the four-eyes rule."""

import pytest
from django.core.exceptions import PermissionDenied

from complaints import workflow
from complaints.models import ApprovalStatus, Case, CaseEvent, CaseState, Offer

from . import flows

pytestmark = pytest.mark.django_db


def available(case, user):
    return sorted(t.name for t in case.get_available_user_state_transitions(user))


def test_roles_hold_the_expected_permissions(agent, supervisor, admin_user):
    assert agent.has_perm("complaints.work_case")
    assert not agent.has_perm("complaints.approve_offer")
    assert not agent.has_perm("complaints.reassign_case")
    assert supervisor.has_perm("complaints.approve_offer")
    assert supervisor.has_perm("complaints.reassign_case")
    assert not supervisor.has_perm("complaints.change_policyrule")
    assert admin_user.has_perm("complaints.change_policyrule")
    assert admin_user.has_perm("complaints.export_rootcauses")
    assert admin_user.has_perm("complaints.approve_offer")


def test_agent_cannot_approve_an_offer(agent, agent2, order):
    offer = workflow.offer_propose(
        case=flows.analyzing(agent, order), actor=agent, kind="voucher", amount="50"
    )
    with pytest.raises(PermissionDenied, match="supervisor"):
        workflow.offer_approve(offer=offer, actor=agent2)
    with pytest.raises(PermissionDenied):
        workflow.offer_reject(offer=offer, actor=agent2, note="不行")
    assert Offer.objects.get(pk=offer.pk).approval_status == ApprovalStatus.PENDING


def test_four_eyes_holds_for_a_supervisor_who_proposed(supervisor, supervisor2, order):
    case = flows.analyzing(supervisor, order)
    offer = workflow.offer_propose(case=case, actor=supervisor, kind="voucher", amount="50")
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(PermissionDenied, match="Four-eyes"):
        workflow.offer_approve(offer=offer, actor=supervisor)
    with pytest.raises(PermissionDenied, match="Four-eyes"):
        workflow.offer_reject(offer=offer, actor=supervisor, note="自己否决")
    assert CaseEvent.objects.filter(case=case).count() == events
    offer = workflow.offer_approve(offer=offer, actor=supervisor2, note="同意")
    assert offer.approval_status == ApprovalStatus.APPROVED
    assert offer.decided_by == supervisor2


def test_four_eyes_holds_even_for_a_superuser(order):
    from .factories import UserFactory

    boss = UserFactory(username="boss", is_superuser=True, is_staff=True)
    case = flows.analyzing(boss, order)
    offer = workflow.offer_propose(case=case, actor=boss, kind="full_refund", amount="199")
    with pytest.raises(PermissionDenied):
        workflow.offer_approve(offer=offer, actor=boss)


def test_a_user_without_a_role_can_do_nothing(outsider, agent, order, customer):
    with pytest.raises(PermissionDenied):
        flows.opened(outsider, order)
    case = workflow.case_assign(case=flows.opened(agent, order), assignee=None, actor=_supervisor())
    assert available(case, outsider) == []
    with pytest.raises(PermissionDenied):
        workflow.case_confirm(case=case, actor=outsider)
    with pytest.raises(PermissionDenied):
        workflow.case_add_note(case=case, actor=outsider, text="hi")
    assert Case.objects.get(pk=case.pk).state == CaseState.CONFIRMING


def _supervisor():
    from .factories import UserFactory

    return UserFactory(username="sup_helper", role="supervisor")


def test_agents_work_their_own_and_unassigned_cases_supervisors_any(
    agent, agent2, supervisor, order
):
    case = flows.opened(agent, order)
    assert case.assignee == agent
    assert available(case, agent) == ["cancel", "confirm"]
    assert available(case, agent2) == []
    assert available(case, supervisor) == ["cancel", "confirm"]
    with pytest.raises(PermissionDenied, match="assigned to someone else"):
        workflow.case_confirm(case=case, actor=agent2)
    with pytest.raises(PermissionDenied):
        workflow.case_cancel(case=case, actor=agent2, reason="不是我的")
    case = workflow.case_confirm(case=case, actor=supervisor)
    assert case.state == CaseState.ANALYZING


def test_only_supervisors_assign_to_others_but_anyone_may_take_an_unassigned_case(
    agent, agent2, supervisor, order
):
    case = flows.opened(agent, order)
    with pytest.raises(PermissionDenied):
        workflow.case_assign(case=case, assignee=agent2, actor=agent)
    with pytest.raises(PermissionDenied):
        workflow.case_assign(case=case, assignee=agent2, actor=agent2)  # taking a colleague's
    case = workflow.case_assign(case=case, assignee=None, actor=supervisor)
    case = workflow.case_assign(case=case, assignee=agent2, actor=agent2)
    assert case.assignee == agent2


def test_cases_cannot_be_assigned_to_someone_who_does_not_work_cases(
    supervisor, outsider, agent, order
):
    from django.core.exceptions import ValidationError

    case = flows.opened(agent, order)
    with pytest.raises(ValidationError, match="cannot work cases"):
        workflow.case_assign(case=case, assignee=outsider, actor=supervisor)
    assert Case.objects.get(pk=case.pk).assignee == agent


def test_inactive_users_lose_their_rights(agent, order):
    case = flows.opened(agent, order)
    agent.is_active = False
    agent.save()
    with pytest.raises(PermissionDenied):
        workflow.case_confirm(case=case, actor=agent)


def test_every_listed_role_permission_exists_and_is_granted():
    from django.contrib.auth.models import Group

    from complaints.roles import ROLE_PERMISSIONS

    for role, codenames in ROLE_PERMISSIONS.items():
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=role).permissions.select_related("content_type")
        }
        wanted = {name if "." in name else f"complaints.{name}" for name in codenames}
        assert granted == wanted, role


def test_the_people_who_work_cases_are_listed_once_each(agent, supervisor, admin_user, outsider):
    """case_workers(): the assignee lists and the team's people. Whoever may
    work cases by a role, by a permission of their own or as a superuser is
    in it once, even with the right twice over; outsiders and people made
    inactive are not."""
    from django.contrib.auth.models import Group, Permission

    from complaints.people import case_workers

    from .factories import UserFactory

    direct = UserFactory(username="temp_worker")
    direct.user_permissions.add(Permission.objects.get(codename="work_case"))
    twice = UserFactory(username="twice_over", role="agent")
    twice.groups.add(Group.objects.get(name="supervisor"))
    twice.user_permissions.add(Permission.objects.get(codename="work_case"))
    root = UserFactory(username="root", is_superuser=True)
    gone = UserFactory(username="gone", role="agent", is_active=False)
    names = list(case_workers().values_list("username", flat=True))
    assert names == sorted(names)
    assert sorted(names) == sorted(
        u.username for u in (agent, supervisor, admin_user, direct, twice, root)
    ), names
    assert outsider.username not in names and gone.username not in names
