"""The request-body limit (413 before reading), per-kind upload limits, and SQLite WAL."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from kepu.core import limits
from kepu.core.files import DATA, DOCUMENT, MB, SPREADSHEET, check_upload_file
from kepu.plans.models import Plan, PlanDraft


class _Body(io.RawIOBase):
    """A request body of ``size`` bytes that records how much was read from it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = min(len(buf), self.size - self.pos)
        buf[:n] = b"a" * n
        self.pos += n
        return n


def test_a_body_over_the_limit_is_refused_before_it_is_read(client, world, settings):
    """A 200 MB upload is answered 413 from its Content-Length; not a byte of it is read
    and the view never runs."""
    body = _Body(200 * MB)
    client.force_login(world.users["admin_a"])
    resp = client.generic(
        "POST",
        reverse("plans:upload"),
        CONTENT_TYPE="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(200 * MB),
        **{"wsgi.input": body},
    )
    assert resp.status_code == 413
    html = resp.content.decode()
    assert "上传的内容过大" in html and "101 MB" in html and "200.0 MB" in html
    assert body.pos == 0
    assert not PlanDraft.objects.exists()


def test_the_limit_is_the_largest_kind_plus_room_for_the_form():
    assert limits.max_request_bytes() == DATA.max_bytes + 1 * MB
    assert (DOCUMENT.max_mb, SPREADSHEET.max_mb, DATA.max_mb) == (10, 20, 100)


def test_a_body_that_outgrows_the_limit_while_streaming_gets_413(world, settings):
    """A server that hands over a body longer than its declared length (or none): the
    bytes are counted as they stream in and reading stops at the limit."""
    settings.KEPU_MAX_REQUEST_BYTES = 4096
    payload = (
        b"--xyz\r\n"
        b'Content-Disposition: form-data; name="document"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + b"x" * 100_000 + b"\r\n--xyz--\r\n"
    )
    request = RequestFactory().generic(
        "POST", "/plans/import/", payload, content_type="multipart/form-data; boundary=xyz"
    )
    request.META["CONTENT_LENGTH"] = "1000"  # declared small ...
    request._stream = _Source(payload)  # ... but the stream is not bounded by it
    reached = []
    middleware = limits.RequestBodyLimitMiddleware(lambda r: reached.append(r))
    resp = middleware(request)
    assert resp.status_code == 413 and "上传的内容过大" in resp.content.decode()
    assert not reached
    assert request._stream._stream.pos <= 4096 + 64 * 1024  # stopped at the first chunk over


class _Source:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size is None or size < 0 else self.pos + size
        chunk = self.data[self.pos : end]
        self.pos += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def test_a_small_body_passes_and_the_form_still_works(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users["admin_a"])
    text = "一、重点任务\n1.开展科普讲座。每年不少于12场。(市科协牵头)\n"
    resp = client.post(
        reverse("plans:upload"),
        {"owner": world.orgs["office_a"].pk, "kind": "annual", "text": text},
    )
    assert resp.status_code == 302 and PlanDraft.objects.count() == 1


@pytest.mark.parametrize(
    ("url", "field", "kind", "name", "extra"),
    [
        ("plans:upload", "document", DOCUMENT, "plan.txt", {"kind": "annual"}),
        ("plans:ledger_import", "workbook", SPREADSHEET, "ledger.xlsx", {"title": "t"}),
    ],
)
def test_each_kind_refuses_a_file_over_its_own_limit(
    client, world, settings, tmp_path, url, field, kind, name, extra
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users["admin_a"])
    head = b"PK\x03\x04" if name.endswith(".xlsx") else b"x"
    upload = SimpleUploadedFile(name, head + b"\0" * (kind.max_bytes + 1 - len(head)))
    resp = client.post(reverse(url), {"owner": world.orgs["office_a"].pk, field: upload, **extra})
    assert resp.status_code == 200
    assert f"上限为 {kind.max_mb} MB" in resp.content.decode()
    assert not PlanDraft.objects.exists() and not Plan.objects.exists()


def test_check_upload_file_reads_only_the_head():
    class Upload(io.BytesIO):
        name = "data.csv"
        size = DATA.max_bytes + 1

    with pytest.raises(Exception, match="上限为 100 MB"):
        check_upload_file(Upload(b"a,b\n"), DATA)
    ok = Upload(b"a,b\n1,2\n")
    ok.size = 8
    assert check_upload_file(ok, DATA) == ".csv"
    assert ok.tell() == 0


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path, django_db_blocker):
    """The settings' SQLite configuration (used when DATABASE_URL is unset)."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from kepu.settings import SQLITE_BUSY_TIMEOUT_MS, sqlite_database

    config = sqlite_database(str(tmp_path / "db.sqlite3"))
    wrapper = DatabaseWrapper(
        {
            **config,
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        },
        alias="wal-check",
    )
    try:
        with django_db_blocker.unblock(), wrapper.cursor() as cur:
            cur.execute("PRAGMA journal_mode")
            assert cur.fetchone()[0] == "wal"
            cur.execute("PRAGMA busy_timeout")
            assert cur.fetchone()[0] == SQLITE_BUSY_TIMEOUT_MS >= 5000
    finally:
        wrapper.close()
