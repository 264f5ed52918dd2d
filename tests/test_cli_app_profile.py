"""``openplate app create --homepage --description --privacy-url --logo``: each flag checked by
the very functions the registration form uses (the same words, naming the field), nothing made
when one is refused, and the logo stored re-encoded, as the form stores it."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from openplate.accounts import app_logos, applications
from openplate.accounts.applications import InvalidApplication
from tests.support.pngs import jpeg, noisy_png, png, png_bomb
from tests.test_cli import assert_one_line_error, run

BASE = ("app", "create", "--owner", "ann", "--name", "Desk", "--redirect-uri",
        "http://localhost:13524/", "--json")


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    made = run(tmp_path, "user", "create", "--email", "ann@example.org", "--username", "ann",
               "--password-stdin", stdin="s3cret-password\n")
    assert made.returncode == 0, made.stderr
    return tmp_path


def _clients(folder: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(folder / "cli.db") as db:
        return db.execute("SELECT client_id, homepage_url, description, privacy_url, logo_digest "
                          "FROM clients").fetchall()


def test_app_create_with_a_profile_and_a_logo(folder: Path) -> None:
    logo = folder / "logo.png"
    logo.write_bytes(png(100, 50, text="uploader's metadata"))
    made = run(folder, *BASE, "--homepage", "https://desk.example/", "--description",
               "Draws maps on the desktop.", "--privacy-url", "https://desk.example/privacy",
               "--logo", str(logo))
    assert made.returncode == 0, made.stderr
    data = json.loads(made.stdout)
    assert data["homepage"] == "https://desk.example/"
    assert data["description"] == "Draws maps on the desktop."
    assert data["privacy_url"] == "https://desk.example/privacy"
    assert data["logo"] == f"/applications/{data['client_id']}/logo.png"
    with sqlite3.connect(folder / "cli.db") as db:
        stored, digest = db.execute("SELECT png, digest FROM client_logos").fetchone()
    assert b"uploader's metadata" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG" and image.size == (100, 50)
    assert _clients(folder)[0][4] == digest
    # Without the flags (the operator may leave the homepage to the app's page), as before.
    plain = run(folder, *BASE)
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout)["homepage"] is None


def _form_words(field: str, value: str) -> str:
    """What the registration form says about this value (the same functions)."""
    check = {"homepage": lambda v: applications.check_homepage(v, required=True),
             "description": applications.check_description,
             "privacy_url": applications.check_privacy_url}[field]
    with pytest.raises(InvalidApplication) as refused:
        check(value)
    assert refused.value.field == field
    return str(refused.value)


@pytest.mark.parametrize(("flag", "field", "value"), [
    ("--homepage", "homepage", "http://desk.example/"),
    ("--homepage", "homepage", "javascript:alert(1)"),
    ("--homepage", "homepage", "https://ann:pw@desk.example/"),
    ("--description", "description", "x" * 301),
    ("--description", "description", "ring\x07"),
    ("--privacy-url", "privacy_url", "desk.example/privacy"),
])
def test_app_create_refuses_a_bad_flag_as_the_form_does(
    folder: Path, flag: str, field: str, value: str
) -> None:
    result = run(folder, *BASE, flag, value)
    assert_one_line_error(result, _form_words(field, value)[:60])
    assert _clients(folder) == []


@pytest.mark.parametrize(("content", "words"), [
    (jpeg(), "not a PNG"),
    (png(600, 20), "600×20 pixels"),
    (png_bomb(), "100000×100000 pixels"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "could not be read"),
    (noisy_png(300, 300), "KiB"),
])
def test_app_create_refuses_a_bad_logo(folder: Path, content: bytes, words: str) -> None:
    path = folder / "logo.png"
    path.write_bytes(content)
    result = run(folder, *BASE, "--logo", str(path))
    assert_one_line_error(result, "Logo: ")
    assert words in result.stderr and app_logos.LIMITS_TEXT in result.stderr
    assert _clients(folder) == []


def test_app_create_with_a_logo_it_cannot_read(folder: Path) -> None:
    result = run(folder, *BASE, "--logo", str(folder / "missing.png"))
    assert_one_line_error(result, "--logo: cannot read")
    assert _clients(folder) == []


def test_app_create_require_par(folder: Path) -> None:
    """``--require-par`` (RFC 9126 §6): stored, shown by ``app create`` and ``app show``."""
    made = run(folder, *BASE, "--require-par")
    assert made.returncode == 0, made.stderr
    data = json.loads(made.stdout)
    assert data["require_pushed_authorization_requests"] is True
    plain = json.loads(run(folder, *BASE).stdout)
    assert plain["require_pushed_authorization_requests"] is False
    for client_id, wanted in ((data["client_id"], True), (plain["client_id"], False)):
        shown = run(folder, "app", "show", client_id, "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["require_pushed_authorization_requests"] is wanted
    with sqlite3.connect(folder / "cli.db") as db:
        stored = dict(db.execute("SELECT client_id, require_pushed_authorization_requests "
                                 "FROM clients").fetchall())
    assert stored == {data["client_id"]: 1, plain["client_id"]: 0}
    text = run(folder, "app", "show", data["client_id"])
    assert [line.split()[-1] for line in text.stdout.splitlines()
            if line.startswith("requires PAR:")] == ["yes"]
