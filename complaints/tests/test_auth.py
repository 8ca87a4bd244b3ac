"""The permissions backend: Django's answers, in one query."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints.auth import PermissionsBackend
from complaints.roles import SUPERVISOR

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def loaded(user):
    """The user as a request would have it: fresh, no permission cached."""
    return PermissionsBackend().get_user(user.pk)


def django_answer(user):
    fresh = type(user).objects.get(pk=user.pk)
    backend = ModelBackend()
    return (
        backend.get_user_permissions(fresh),
        backend.get_group_permissions(fresh),
        backend.get_all_permissions(fresh),
    )


def our_answer(user):
    backend = PermissionsBackend()
    return (
        backend.get_user_permissions(user),
        backend.get_group_permissions(user),
        backend.get_all_permissions(user),
    )


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_a_role_gets_the_same_permissions_as_from_django(role):
    user = loaded(UserFactory(role=role))
    ours = our_answer(user)
    assert ours == django_answer(user)
    assert ours[0] == set() and len(ours[1]) > 30  # a role's permissions are its group's


def test_own_permissions_and_group_permissions_are_told_apart(agent):
    export = Permission.objects.get(codename="export_rootcauses")
    agent.user_permissions.add(export)
    user = loaded(agent)
    own, group, every = our_answer(user)
    assert own == {"complaints.export_rootcauses"}
    assert "complaints.export_rootcauses" not in group
    assert "complaints.work_case" in group
    assert (own, group, every) == django_answer(user)
    assert user.has_perm("complaints.export_rootcauses")


def test_every_question_of_a_request_costs_one_query(supervisor):
    user = loaded(supervisor)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("complaints.work_case")
        assert user.has_perm("complaints.approve_offer")
        assert not user.has_perm("complaints.change_policyrule")
        assert user.has_perms(["complaints.view_team", "complaints.reassign_case"])
    assert len(queries) == 1


def test_a_user_with_no_role_has_no_permission(outsider):
    user = loaded(outsider)
    assert our_answer(user) == (set(), set(), set()) == django_answer(user)
    assert not user.has_perm("complaints.work_case")


def test_an_inactive_user_is_not_signed_in_and_holds_nothing(agent):
    agent.is_active = False
    agent.save()
    assert loaded(agent) is None
    with CaptureQueriesContext(connection) as queries:
        assert our_answer(agent) == (set(), set(), set())
    assert len(queries) == 0


def test_a_superuser_holds_every_permission():
    boss = loaded(UserFactory(is_superuser=True))
    assert boss.has_perm("complaints.approve_offer")
    assert (
        our_answer(boss)[2]
        == django_answer(boss)[2]
        == {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Permission.objects.select_related("content_type")
        }
    )


def test_a_role_change_counts_from_the_next_request(agent):
    user = loaded(agent)
    assert not user.has_perm("complaints.approve_offer")
    agent.groups.add(Group.objects.get(name=SUPERVISOR))
    assert loaded(agent).has_perm("complaints.approve_offer")


def test_pages_sign_in_through_this_backend(client, agent):
    client.force_login(agent)
    response = client.get("/queue/mine/")
    assert response.status_code == 200
    assert isinstance(response.wsgi_request.user, type(agent))
    assert client.session["_auth_user_backend"] == "complaints.auth.PermissionsBackend"
