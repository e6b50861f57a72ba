"""The access rules: who sees and changes which handover and review."""

from __future__ import annotations

from service.demo import example_handover
from service.domain import access
from service.web.auth import in_domain, safe_next

PAYLOAD = example_handover()  # AM ada@, PM pat@, Sales sam@agency.example


def test_roles_come_from_the_map_and_default_to_sales() -> None:
    roles = {"ada@agency.example": "account_manager"}
    assert access.role_of(" Ada@Agency.example ", roles) == "account_manager"
    assert access.role_of("new@agency.example", roles) == "sales"


def test_who_sees_a_handover() -> None:
    def sees(email: str, role: str, submitted_by: str = "token:abc") -> bool:
        return access.may_see_handover(email, role, PAYLOAD, submitted_by)

    assert sees("x@agency.example", "operations") and sees("x@agency.example", "admin")
    assert sees("sam@agency.example", "sales")  # named as Sales
    assert sees("sue@agency.example", "sales", submitted_by="Sue@agency.example")  # submitted
    assert not sees("sue@agency.example", "sales")
    assert sees("ada@agency.example", "account_manager")
    assert not sees("ada@agency.example", "project_manager")  # her role is not PM here
    assert sees("PAT@agency.example", "project_manager")
    assert not sees("pia@agency.example", "project_manager")
    assert not sees("sam@agency.example", "account_manager")


def test_who_changes_a_handover() -> None:
    assert access.may_change_handover("sam@agency.example", "sales", PAYLOAD, "x")
    assert access.may_change_handover("o@agency.example", "operations", PAYLOAD, "x")
    assert not access.may_change_handover("ada@agency.example", "account_manager", PAYLOAD, "x")
    assert not access.may_change_handover("pat@agency.example", "project_manager", PAYLOAD, "x")


def test_who_sees_a_review() -> None:
    am, pm = "ada@agency.example", "pat@agency.example"
    assert access.may_see_review("Ada@agency.example", "account_manager", am, pm)
    assert access.may_see_review(pm, "project_manager", am, pm)
    assert not access.may_see_review(pm, "account_manager", am, pm)
    assert not access.may_see_review("pia@agency.example", "project_manager", am, pm)
    assert not access.may_see_review(pm, "project_manager", am, None)
    assert not access.may_see_review("sam@agency.example", "sales", am, pm)
    assert access.may_see_review("o@agency.example", "operations", None, None)


def test_only_the_domain_itself_is_the_agency() -> None:
    assert in_domain("Ada@Agency.Example", "agency.example")
    assert not in_domain("ada@agency.example.evil.example", "agency.example")
    assert not in_domain("ada@evilagency.example", "agency.example")
    assert not in_domain("@agency.example", "agency.example")
    assert not in_domain("ada@agency.example", None)


def test_next_stays_on_the_site() -> None:
    assert safe_next("/reviews?state=open") == "/reviews?state=open"
    for bad in [None, "", "//evil.example", "/\\evil.example", "https://evil.example/",
                "javascript:alert(1)", "/x\nSet-Cookie: a=b"]:
        assert safe_next(bad) == "/", bad
