"""Who can read and touch a case: another company's member never gets anything (404, 0 successes)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def probes(stack, ref: str, attachment_path: str, headers: dict[str, str]) -> dict[str, int]:
    """Every requester endpoint of one case, as `headers`; the status each answered."""
    c = stack.client
    return {
        "read": (await c.get(f"/cases/{ref}", headers=headers)).status_code,
        "read lower-case": (await c.get(f"/cases/{ref.lower()}", headers=headers)).status_code,
        "write": (await c.post(f"/cases/{ref}/messages", json={"body": "hello"}, headers=headers)).status_code,
        "attach": (
            await c.post(
                f"/cases/{ref}/attachments",
                params={"filename": "x.pdf"},
                content=PDF,
                headers={**headers, "content-type": "application/pdf"},
            )
        ).status_code,
        "download": (await c.get(attachment_path, headers=headers)).status_code,
        "reopen": (await c.post(f"/cases/{ref}/reopen", headers=headers)).status_code,
        "resolve": (await c.post(f"/cases/{ref}/resolve", headers=headers)).status_code,
    }


@pytest.fixture
async def case_of_company_a(stack):
    company = stack.new_company()
    owner = stack.member(company)
    page = await stack.open_case(owner)
    upload = await stack.client.post(
        f"/cases/{page['reference']}/attachments",
        params={"filename": "facture.pdf"},
        content=PDF,
        headers={**owner, "content-type": "application/pdf"},
    )
    assert upload.status_code == 201
    return company, owner, page["reference"], upload.json()["download_path"]


async def test_a_member_of_another_company_gets_404_on_every_endpoint_and_zero_successes(stack, case_of_company_a):
    _, _, ref, download = case_of_company_a
    outsiders = [stack.member(), stack.member(admin=True)]  # even the other company's administrator
    answers = [await probes(stack, ref, download, headers) for headers in outsiders]
    successes = [(what, code) for a in answers for what, code in a.items() if code < 400]
    assert successes == []
    assert {code for a in answers for code in a.values()} == {404}
    for headers in outsiders:
        listed = (await stack.client.get("/cases", headers=headers)).json()
        assert ref not in [c["reference"] for c in listed]


async def test_the_404_for_a_foreign_case_is_the_same_as_for_a_case_that_does_not_exist(stack, case_of_company_a):
    _, _, ref, _ = case_of_company_a
    outsider = stack.member()
    foreign = await stack.client.get(f"/cases/{ref}", headers=outsider)
    missing = await stack.client.get("/cases/SUP-1999-000001", headers=outsider)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["code"] == missing.json()["code"] == "no-such-case"


async def test_a_colleague_sees_only_their_own_cases_but_the_company_administrator_sees_all(stack, case_of_company_a):
    company, owner, ref, download = case_of_company_a
    colleague = stack.member(company)
    assert (await stack.client.get(f"/cases/{ref}", headers=colleague)).status_code == 404
    admin = stack.member(company, admin=True)
    assert (await stack.client.get(f"/cases/{ref}", headers=admin)).status_code == 200
    assert (await stack.client.get(download, headers=admin)).status_code == 200
    assert [c["reference"] for c in (await stack.client.get("/cases", headers=admin)).json()] == [ref]
    assert [c["reference"] for c in (await stack.client.get("/cases", headers=owner)).json()] == [ref]


async def test_members_cannot_use_the_agent_desk_and_operators_can_read_but_not_act(stack, case_of_company_a):
    _, owner, ref, _ = case_of_company_a
    c = stack.client
    for headers in (owner, stack.member(admin=True)):
        assert (await c.get("/desk/queue", headers=headers)).status_code == 403
        assert (await c.get(f"/desk/cases/{ref}", headers=headers)).status_code == 403
        assert (await c.post(f"/desk/cases/{ref}/messages", json={"body": "x"}, headers=headers)).status_code == 403
    operator = stack.operator()
    assert (await c.get(f"/desk/cases/{ref}", headers=operator)).status_code == 200
    assert (await c.post(f"/desk/cases/{ref}/state", json={"state": "open"}, headers=operator)).status_code == 403
    assert (await c.get("/desk/queue")).status_code == 401


async def test_an_invalid_or_foreign_signed_token_is_refused(stack, case_of_company_a):
    _, owner, ref, _ = case_of_company_a
    token = owner["Authorization"].split()[1]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    answer = await stack.client.get(f"/cases/{ref}", headers={"Authorization": f"Bearer {tampered}"})
    assert answer.status_code == 401


async def test_case_references_come_from_a_sequence_and_are_unique(stack):
    headers = stack.member()
    refs = [(await stack.open_case(headers))["reference"] for _ in range(3)]
    numbers = [int(r.rsplit("-", 1)[1]) for r in refs]
    assert len(set(refs)) == 3 and numbers == sorted(numbers)
