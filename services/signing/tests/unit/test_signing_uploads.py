"""Reading an upload: raw PDF or multipart file part, with the size limit enforced while the body arrives."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request

from signing.entrypoints.uploads import read_pdf_upload

pytestmark = pytest.mark.unit

LIMIT = 1000


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int | str]:
        pdf = await read_pdf_upload(request, LIMIT)
        return {"size": len(pdf), "head": pdf[:8].decode("latin-1"), "tail": pdf[-6:].decode("latin-1")}

    return app


async def post(**kwargs) -> httpx.Response:
    transport = httpx.ASGITransport(app=echo_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/upload", **kwargs)


async def test_a_raw_pdf_body_is_taken_as_is():
    body = b"%PDF-1.7\r\n" + b"x" * 100 + b"%%EOF\r\n"

    response = await post(content=body, headers={"content-type": "application/pdf"})

    assert response.json() == {"size": len(body), "head": "%PDF-1.7", "tail": "%EOF\r\n"}


async def test_the_file_part_of_a_multipart_form_is_extracted_byte_for_byte():
    pdf = b"%PDF-1.7\r\n--not-a-boundary\r\n\r\n" + bytes(range(256)) + b"%%EOF\r\n"

    response = await post(files={"file": ("a.pdf", pdf, "application/pdf")}, data={"note": "kept copy"})

    assert response.status_code == 200
    assert response.json() == {"size": len(pdf), "head": "%PDF-1.7", "tail": "%EOF\r\n"}


async def test_a_file_over_the_limit_is_refused_in_multipart_too():
    response = await post(files={"file": ("a.pdf", b"%PDF" + b"x" * LIMIT, "application/pdf")})

    assert response.status_code == 413
    assert response.json()["detail"]["code"] == "too_large"


async def test_a_streamed_body_without_a_declared_length_is_cut_off_at_the_limit():
    async def body():
        for _ in range(5):
            yield b"y" * 400

    response = await post(content=body(), headers={"content-type": "application/pdf"})

    assert response.status_code == 413


async def test_a_non_numeric_content_length_is_a_bad_request():
    transport = httpx.ASGITransport(app=echo_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        request = client.build_request("POST", "/upload", content=b"%PDF", headers={"content-type": "application/pdf"})
        request.headers["content-length"] = "lots"
        response = await client.send(request)

    assert response.status_code == 400
