"""An actor's one-line description never states a role that its dated roles contradict."""

import pytest

from explainer.descriptions import RoleHeld, description_contradictions
from explainer.models import Actor
from tests.test_admin import ACTOR_ADD, actor_form, form_errors

FOREIGN_MINISTER = RoleHeld(
    title="Foreign Minister", other_titles=(), starts_on="2016-05", ends_on="2020-01"
)


def test_since_a_year_contradicts_a_role_that_ended():
    problems = description_contradictions(
        description="Foreign Minister of North Korea since May 2016", roles=[FOREIGN_MINISTER]
    )
    assert problems == [
        "The description says Foreign Minister since 2016, as if still held, but the role "
        "ended in 2020-01."
    ]


def test_years_that_match_the_roles_agree():
    assert not description_contradictions(
        description="North Korean diplomat; foreign minister from 2016 to 2020",
        roles=[FOREIGN_MINISTER],
    )


def test_a_wrong_end_year_or_start_year_is_named():
    assert description_contradictions(
        description="foreign minister from 2016 to 2021", roles=[FOREIGN_MINISTER]
    ) == ["The description says Foreign Minister until 2021, but the role ends: 2020."]
    assert description_contradictions(
        description="foreign minister from 2014", roles=[FOREIGN_MINISTER]
    ) == [
        "The description says Foreign Minister from 2014, but the roles give Foreign "
        "Minister from 2016."
    ]


def test_a_longer_title_is_not_read_as_the_shorter_one_inside_it():
    roles = [
        RoleHeld(title="Vice Foreign Minister", other_titles=(), starts_on="1995", ends_on="2010"),
        RoleHeld(
            title="First Vice Foreign Minister", other_titles=(), starts_on="2010", ends_on="2019"
        ),
    ]
    description = (
        "vice foreign minister from 1995 and first vice foreign minister from 2010 to 2019"
    )
    assert not description_contradictions(description=description, roles=roles)


def test_a_title_held_twice_is_checked_against_each_term():
    roles = [
        RoleHeld(title="President", other_titles=(), starts_on="2000-05", ends_on="2008-05"),
        RoleHeld(title="President", other_titles=(), starts_on="2012-05", ends_on=""),
    ]
    assert not description_contradictions(
        description="President of Russia from 2000 to 2008 and again from 2012", roles=roles
    )
    assert description_contradictions(
        description="President of Russia from 2000 to 2008 and again from 2013", roles=roles
    )


def test_a_title_form_counts_as_the_title_and_unnamed_periods_are_not_checked():
    cia = RoleHeld(
        title="Director of the Central Intelligence Agency",
        other_titles=("CIA director",),
        starts_on="2017-01",
        ends_on="2018-04-26",
    )
    assert description_contradictions(description="CIA director since 2017", roles=[cia])
    assert not description_contradictions(description="In the news since 2017", roles=[cia])


def test_no_demo_entry_description_contradicts_its_roles(demo):
    checked = 0
    for actor in Actor.objects.prefetch_related("roles"):
        roles = [role.held for role in actor.roles.all()]
        assert description_contradictions(description=actor.description, roles=roles) == [], (
            actor.slug
        )
        checked += bool(roles)
    assert checked >= 15


@pytest.mark.django_db
def test_admin_refuses_roles_the_description_contradicts_and_keeps_the_input(admin_client):
    data = actor_form(
        admin_client,
        name="Ri Yong-ho",
        slug="ri-yong-ho",
        description="Foreign Minister of North Korea since May 2016",
        **{
            "roles-0-title": "Foreign Minister",
            "roles-0-organization": "North Korea",
            "roles-0-starts_on": "2016-05",
            "roles-0-ends_on": "2020-01",
        },
    )
    response = admin_client.post(ACTOR_ADD, data)
    assert "as if still held, but the role ended in 2020-01" in form_errors(response)
    assert 'value="Foreign Minister of North Korea since May 2016"' in response.content.decode()
    assert not Actor.objects.exists()

    data["description"] = "North Korean diplomat; foreign minister from 2016 to 2020"
    response = admin_client.post(ACTOR_ADD, data)
    assert response.status_code == 302
    assert Actor.objects.get().roles.get().ends_on == "2020-01"
