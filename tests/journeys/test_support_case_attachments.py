"""Journey through the gateway: a member opens a case with a file, an agent downloads it and replies."""

from __future__ import annotations

import hashlib
import struct
import zlib

import pytest

from factora_testing.identity_flows import plain_text
from factora_testing.portal import Portal, mail_to, new_member, new_staff_member

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STATEMENT_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
# What a Windows program starts with: a DOS header ("MZ") and padding.
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240


def screenshot_png() -> bytes:
    """A real 2x2 PNG, as a screenshot tool would write it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def test_a_member_attaches_files_to_a_case_and_the_agent_downloads_them_and_replies(
    gateway, running_network, smtp_catcher
):
    portal = Portal(gateway.url)
    member = await new_member(portal, smtp_catcher, full_name="Camille Martin")
    # Operator set-up: the agent is created with `identity.manage create-staff` (no HTTP API for staff).
    agent = await new_staff_member(portal, running_network)

    async with portal.client("support") as support:
        # The member opens a case from the portal.
        opened = await support.post(
            "/cases",
            json={
                "category": "invoicing",
                "subject": "Facture FA-2026-0042 refusée",
                "description": "Mon client dit que la facture FA-2026-0042 n'est pas arrivée ; "
                "je joins le relevé et une capture d'écran.",
                "name": member.full_name,
                "email": member.email,
                "locale": "fr",
            },
            headers=member.headers,
        )
        assert opened.status_code == 201, opened.text
        reference = opened.json()["reference"]
        assert reference.startswith("SUP-") and opened.json()["state"] == "new"
        received = await mail_to(smtp_catcher, member.email, (f"dossier {reference.lower()}",))
        assert "nous avons bien reçu votre demande" in received["Subject"]

        # Two files are accepted, typed by their content.
        pdf = await support.post(
            f"/cases/{reference}/attachments",
            params={"filename": "relevé mars.pdf"},
            content=STATEMENT_PDF,
            headers={**member.headers, "Content-Type": "application/pdf"},
        )
        assert pdf.status_code == 201, pdf.text
        assert pdf.json()["media_type"] == "application/pdf" and pdf.json()["filename"] == "relevé mars.pdf"
        assert pdf.json()["sha256"] == hashlib.sha256(STATEMENT_PDF).hexdigest()
        png_bytes = screenshot_png()
        png = await support.post(
            f"/cases/{reference}/attachments",
            params={"filename": "capture.png"},
            content=png_bytes,
            headers={**member.headers, "Content-Type": "image/png"},
        )
        assert png.status_code == 201 and png.json()["media_type"] == "image/png", png.text

        # Disguised files are refused with a reason the member can act on.
        renamed = await support.post(
            f"/cases/{reference}/attachments",
            params={"filename": "facture.pdf"},
            content=png_bytes,
            headers={**member.headers, "Content-Type": "application/pdf"},
        )
        assert renamed.status_code == 415, renamed.text
        assert renamed.json()["code"] == "file-disguised"
        assert "named 'facture.pdf' but its content is PNG image" in renamed.json()["detail"]
        program = await support.post(
            f"/cases/{reference}/attachments",
            params={"filename": "facture.pdf"},
            content=WINDOWS_PROGRAM,
            headers={**member.headers, "Content-Type": "application/pdf"},
        )
        assert program.status_code == 415, program.text
        assert program.json()["code"] == "file-type-not-allowed"
        assert "a Windows program" in program.json()["detail"] and "PDF" in program.json()["detail"]

        # The agent finds the case in the queue with its two files, and downloads the PDF.
        queue = await support.get("/desk/queue", params={"category": "invoicing"}, headers=agent.headers)
        assert queue.status_code == 200, queue.text
        assert reference in [c["reference"] for c in queue.json()]
        desk_case = await support.get(f"/desk/cases/{reference}", headers=agent.headers)
        assert desk_case.status_code == 200, desk_case.text
        files = {f["filename"]: f for f in desk_case.json()["attachments"]}
        assert set(files) == {"relevé mars.pdf", "capture.png"}
        download = await support.get(
            f"/desk/cases/{reference}/attachments/{files['relevé mars.pdf']['id']}", headers=agent.headers
        )
        assert download.status_code == 200 and download.content == STATEMENT_PDF
        # Served as a download only: never rendered by the agent's browser.
        assert download.headers["content-type"] == "application/octet-stream"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"

        # The agent takes the case, leaves an internal note and replies to the member.
        assert (
            await support.post(f"/desk/cases/{reference}/assign", json={}, headers=agent.headers)
        ).status_code == 200
        note = await support.post(
            f"/desk/cases/{reference}/messages",
            json={"body": "Vérifié côté signing : facture scellée, e-mail acheteur rejeté.", "internal": True},
            headers=agent.headers,
        )
        assert note.status_code == 201, note.text
        reply = await support.post(
            f"/desk/cases/{reference}/messages",
            json={
                "body": "Bonjour, la facture est bien scellée ; l'adresse de votre client refuse nos e-mails. "
                "Pouvez-vous nous en donner une autre ?",
                "then": "waiting_on_customer",
            },
            headers=agent.headers,
        )
        assert reply.status_code == 201, reply.text

        # The member is told a reply is waiting, and reads it on the case page (without the internal note).
        answered = await mail_to(smtp_catcher, member.email, ("une réponse vous attend",), body_contains=reference)
        assert reference in answered["Subject"]
        assert reference in plain_text(answered)
        page = await support.get(f"/cases/{reference}", headers=member.headers)
        assert page.status_code == 200, page.text
        assert page.json()["state"] == "waiting_on_customer"
        bodies = [(m["author"], m["body"]) for m in page.json()["messages"]]
        assert any(author == "agent" and "refuse nos e-mails" in body for author, body in bodies), bodies
        assert not any("Vérifié côté signing" in body for _, body in bodies)
        # The member can download their own file back, byte for byte.
        own = await support.get(f"/cases/{reference}/attachments/{pdf.json()['id']}", headers=member.headers)
        assert own.status_code == 200 and own.content == STATEMENT_PDF
