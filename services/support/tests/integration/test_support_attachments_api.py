"""Attachments through the HTTP API: content-checked on the way in, bytes-only on the way out, size-capped."""

from __future__ import annotations

import hashlib

import pytest
from prometheus_client import REGISTRY

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
HTML = b"<!DOCTYPE html><html><body><script>fetch('/steal?c='+document.cookie)</script></body></html>"


async def upload(stack, ref, headers, content, filename, content_type):  # type: ignore[no-untyped-def]
    return await stack.client.post(
        f"/cases/{ref}/attachments",
        params={"filename": filename},
        content=content,
        headers={**headers, "content-type": content_type},
    )


def refused(reason: str) -> float:
    return REGISTRY.get_sample_value("factora_support_attachments_refused_total", {"reason": reason}) or 0.0


async def test_a_pdf_is_stored_in_the_database_and_served_back_only_as_a_download(stack):
    member = stack.member()
    ref = (await stack.open_case(member))["reference"]
    answer = await upload(stack, ref, member, PDF, "relevé d'août.pdf", "application/pdf")
    assert answer.status_code == 201
    stored = answer.json()
    assert stored["media_type"] == "application/pdf" and stored["size_bytes"] == len(PDF)
    assert stored["sha256"] == hashlib.sha256(PDF).hexdigest()

    download = await stack.client.get(stored["download_path"], headers=member)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''relev%C3%A9%20d%27ao%C3%BBt.pdf" in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]
    page = (await stack.client.get(f"/cases/{ref}", headers=member)).json()
    assert [a["filename"] for a in page["attachments"]] == ["relevé d'août.pdf"]


async def test_an_exe_renamed_pdf_is_refused_and_nothing_is_stored(stack):
    member = stack.member()
    ref = (await stack.open_case(member))["reference"]
    before = refused("file-type-not-allowed")
    answer = await upload(stack, ref, member, WINDOWS_EXE, "facture.pdf", "application/pdf")
    assert answer.status_code == 415
    assert answer.json()["code"] == "file-type-not-allowed" and "Windows program" in answer.json()["detail"]
    assert refused("file-type-not-allowed") == before + 1
    assert (await stack.client.get(f"/cases/{ref}", headers=member)).json()["attachments"] == []


async def test_an_html_file_declared_as_a_png_image_is_refused(stack):
    member = stack.member()
    ref = (await stack.open_case(member))["reference"]
    answer = await upload(stack, ref, member, HTML, "capture.png", "image/png")
    assert answer.status_code == 415 and "HTML" in answer.json()["detail"]


async def test_a_real_image_under_another_files_name_is_refused_as_disguised(stack):
    member = stack.member()
    ref = (await stack.open_case(member))["reference"]
    answer = await upload(stack, ref, member, PNG, "contract.pdf", "application/pdf")
    assert answer.status_code == 415 and answer.json()["code"] == "file-disguised"


async def test_an_oversize_file_is_refused_before_it_is_stored(stack):
    member = stack.member()
    ref = (await stack.open_case(member))["reference"]
    limit = stack.ctx.settings.max_attachment_bytes
    big = PDF + b"0" * (limit - len(PDF) + 1)
    answer = await upload(stack, ref, member, big, "big.pdf", "application/pdf")
    assert answer.status_code == 413 and "at most 10 MiB" in answer.json()["detail"]

    async def chunks():
        for _ in range(11):
            yield b"%PDF" + b"0" * (1024 * 1024)

    streamed = await stack.client.post(
        f"/cases/{ref}/attachments",
        params={"filename": "stream.pdf"},
        content=chunks(),
        headers={**member, "content-type": "application/pdf"},
    )
    assert streamed.status_code == 413  # no Content-Length: counted while reading
    assert (await stack.client.get(f"/cases/{ref}", headers=member)).json()["attachments"] == []


async def test_a_case_holds_a_limited_number_of_files(stack, monkeypatch):
    member = stack.member()
    ref = (await stack.open_case(member))["reference"]
    monkeypatch.setattr(stack.ctx.settings, "max_attachments_per_case", 2)
    codes = [(await upload(stack, ref, member, PDF, f"f{i}.pdf", "application/pdf")).status_code for i in range(3)]
    assert codes == [201, 201, 409]


async def test_agent_files_marked_internal_stay_hidden_from_the_customer(stack):
    member = stack.member()
    ref = (await stack.open_case(member))["reference"]
    agent = stack.agent()
    internal = await stack.client.post(
        f"/desk/cases/{ref}/attachments",
        params={"filename": "checks.txt", "internal": "true"},
        content=b"Called back the registered number; admin confirmed.\n",
        headers={**agent, "content-type": "text/plain"},
    )
    public = await stack.client.post(
        f"/desk/cases/{ref}/attachments",
        params={"filename": "guide.pdf"},
        content=PDF,
        headers={**agent, "content-type": "application/pdf"},
    )
    assert internal.status_code == public.status_code == 201
    page = (await stack.client.get(f"/cases/{ref}", headers=member)).json()
    assert [a["filename"] for a in page["attachments"]] == ["guide.pdf"]
    hidden = internal.json()["id"]
    assert (await stack.client.get(f"/cases/{ref}/attachments/{hidden}", headers=member)).status_code == 404
    assert (await stack.client.get(f"/desk/cases/{ref}/attachments/{hidden}", headers=agent)).status_code == 200
