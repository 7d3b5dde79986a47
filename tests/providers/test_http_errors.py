"""Shared error mapping and image checks."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from PIL import Image

from providers._http.errors import (
    check_image,
    decode_data_uri,
    error_for_status,
    error_from_response,
    error_from_transport,
    fetch_image,
    parse_retry_after,
    parse_retry_delay,
    redact,
    to_data_uri,
)
from providers.base import (
    AuthFailed,
    BadImage,
    InvalidRequest,
    RateLimited,
    Unavailable,
)
from tests.providers.fakes import BAD_IMAGE, make_png

KEY = "test-key-123"


def response(
    status: int, *, json: object = None, text: str | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    if json is not None:
        return httpx.Response(status, json=json, headers=headers)
    return httpx.Response(status, text=text or "", headers=headers)


def test_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_retry_delay_from_google_retry_info() -> None:
    body = {
        "error": {
            "code": 429,
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "22s"},
            ],
        }
    }
    assert parse_retry_delay(body) == 22.0
    body["error"]["details"][1]["retryDelay"] = "0.250s"
    assert parse_retry_delay(body) == 0.25
    assert parse_retry_delay({"error": {"code": 429}}) is None
    assert parse_retry_delay(["not", "a", "dict"]) is None


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthFailed),
        (403, AuthFailed),
        (429, RateLimited),
        (400, InvalidRequest),
        (404, InvalidRequest),
        (422, InvalidRequest),
        (500, Unavailable),
        (502, Unavailable),
        (503, Unavailable),
        (408, Unavailable),
    ],
)
def test_status_mapping(status: int, cls: type) -> None:
    error = error_from_response(response(status, json={"message": "nope"}), "x")
    assert type(error) is cls
    assert error.status_code == status and error.provider == "x"
    assert "nope" in str(error)


def test_429_header_and_google_body() -> None:
    error = error_from_response(response(429, json={}, headers={"Retry-After": "7"}), "x")
    assert isinstance(error, RateLimited) and error.retry_after == 7.0
    body = {
        "error": {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "message": "quota",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "22s"}],
        }
    }
    error = error_from_response(response(429, json=body), "gemini")
    assert isinstance(error, RateLimited) and error.retry_after == 22.0
    assert error_from_response(response(429, text="slow down"), "x").retry_after is None


def test_detail_shapes_and_truncation() -> None:
    assert error_from_response(response(500, json={"error": {"message": "google"}}), "x").detail == "google"
    assert (
        error_from_response(response(422, json={"detail": [{"loc": ["prompt"]}]}), "x").detail
        == '[{"loc": ["prompt"]}]'
    )
    assert error_from_response(response(404, json={"title": "Not found"}), "x").detail == "Not found"
    long = error_from_response(response(502, text="<html>" + "x" * 5000), "x")
    assert long.detail is not None and len(long.detail) <= 300


def test_keys_are_redacted() -> None:
    echo = response(401, json={"message": f"invalid key {KEY}; header was Bearer {KEY}"})
    error = error_from_response(echo, "x", secrets=(KEY,))
    assert KEY not in str(error) and KEY not in (error.detail or "")
    # Unknown secrets shaped like an auth header are blanked too.
    assert "abcdef0123456789" not in redact("got Authorization: Bearer abcdef0123456789")
    assert redact("Key: abcdefgh12345678 rejected") == "Key: *** rejected"


def test_transport_errors_are_unavailable() -> None:
    timeout = error_from_transport(httpx.ReadTimeout("timed out"), "x")
    assert isinstance(timeout, Unavailable) and "timed out" in str(timeout)
    refused = error_from_transport(httpx.ConnectError("refused"), "x")
    assert isinstance(refused, Unavailable) and "unreachable" in str(refused)


def test_error_for_status_without_status() -> None:
    assert isinstance(error_for_status(0, provider="x"), Unavailable)


def test_check_image_accepts_real_images() -> None:
    assert check_image(make_png(30, 20), "x") == ("image/png", 30, 20)
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), "red").save(buf, format="JPEG")
    assert check_image(buf.getvalue(), "x") == ("image/jpeg", 8, 6)


@pytest.mark.parametrize("data", [b"", None, BAD_IMAGE, make_png(40, 40)[:-60]])
def test_check_image_rejects_bad_bytes(data: bytes | None) -> None:
    with pytest.raises(BadImage) as info:
        check_image(data, "x")
    assert info.value.provider == "x"


def test_data_uris_round_trip() -> None:
    png = make_png(4, 4)
    assert decode_data_uri(to_data_uri(png, "image/png"), "x") == png
    assert decode_data_uri("data:text/plain,hello%20there", "x") == b"hello there"
    with pytest.raises(BadImage):
        decode_data_uri("data:image/png;base64", "x")


async def test_fetch_image_maps_http_failures() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers  # downloads never carry a key
        if request.url.path == "/ok.png":
            return httpx.Response(200, content=b"bytes")
        return httpx.Response(404, json={"detail": "expired"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        assert await fetch_image("https://cdn.example/ok.png", provider="x", http=http) == b"bytes"
        with pytest.raises(InvalidRequest):
            await fetch_image("https://cdn.example/gone.png", provider="x", http=http)
    with pytest.raises(BadImage):
        await fetch_image("ftp://nope", provider="x")
