"""The operator's account and application commands, as real processes: ``openplate user
list|show|set-password|disable|enable|delete`` and ``openplate app list|show|disable|enable|
delete``, JSON with ``--json`` and text without, one-line refusals, paging and search.
(Their effect on a running server is in tests/web/test_disabled_accounts.py and
test_account_deletion.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import _fields, assert_one_line_error, run

ENV = {"OPENPLATE_SECRET_KEY": "k" * 48}
PASSWORD = "s3cret-password\n"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A database with three users (ann owns two applications) and a key."""
    assert run(tmp_path, "migrate", env=ENV).returncode == 0
    for name in ("ann", "bob", "carol_x"):
        made = run(tmp_path, "user", "create", "--email", f"{name}@example.org", "--username",
                   name, "--password-stdin", stdin=PASSWORD, env=ENV)
        assert made.returncode == 0, made.stderr
    for name in ("Desk", "Phone 100%"):
        made = run(tmp_path, "app", "create", "--owner", "ann", "--name", name,
                   "--redirect-uri", "https://app.example.com/cb", env=ENV)
        assert made.returncode == 0, made.stderr
    return tmp_path


def cli_json(folder: Path, *args: str, stdin: str = "") -> dict[str, object]:
    done = run(folder, *args, "--json", stdin=stdin, env=ENV)
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def client_ids(folder: Path) -> list[str]:
    apps = cli_json(folder, "app", "list")["apps"]
    assert isinstance(apps, list)
    return [str(app["client_id"]) for app in apps]


def test_user_list_pages_and_searches(folder: Path) -> None:
    listed = cli_json(folder, "user", "list")
    assert listed["total"] == 3 and listed["limit"] == 50 and listed["offset"] == 0
    users = listed["users"]
    assert isinstance(users, list)
    assert [u["username"] for u in users] == ["ann", "bob", "carol_x"]
    assert set(users[0]) == {"id", "username", "email", "created_at", "disabled_at"}

    page = cli_json(folder, "user", "list", "--limit", "2", "--offset", "1")
    assert page["total"] == 3 and [u["username"] for u in page["users"]] == ["bob", "carol_x"]  # type: ignore[attr-defined]
    # The search matches username or e-mail, in any case; its wildcards are taken literally.
    assert [u["username"] for u in cli_json(folder, "user", "list", "--search", "BOB@")["users"]] == ["bob"]  # type: ignore[attr-defined]
    assert [u["username"] for u in cli_json(folder, "user", "list", "--search", "_x")["users"]] == ["carol_x"]  # type: ignore[attr-defined]
    assert cli_json(folder, "user", "list", "--search", "%")["total"] == 0

    text = run(folder, "user", "list", "--limit", "2", env=ENV).stdout.splitlines()
    assert text[0].split() == ["id", "username", "email", "created", "disabled"]
    assert text[1].split()[1:3] == ["ann", "ann@example.org"] and text[1].split()[-1] == "no"
    assert text[-1] == "showing 1-2 of 3 users (--offset 2 for more)"
    assert run(folder, "user", "list", "--search", "nobody", env=ENV).stdout == \
        "no users matching 'nobody'\n"


def test_user_show_gives_the_facts(folder: Path) -> None:
    shown = cli_json(folder, "user", "show", "ANN@example.org")
    assert shown["username"] == "ann" and shown["apps"] == 2 and shown["maps"] == 0
    assert shown["active_grants"] == 0 and shown["disabled_at"] is None
    assert shown["last_signin_at"] is None
    fields = _fields(run(folder, "user", "show", "ann", env=ENV).stdout)
    assert fields["applications"] == "2" and fields["disabled"] == "no"
    assert fields["last sign-in"].startswith("unknown")
    assert_one_line_error(run(folder, "user", "show", "nobody", env=ENV),
                          "no user with username or e-mail 'nobody'")


def test_disable_and_enable_say_what_changed(folder: Path) -> None:
    assert cli_json(folder, "user", "disable", "bob")["changed"] is True
    assert cli_json(folder, "user", "disable", "bob")["changed"] is False
    assert "already disabled" in run(folder, "user", "disable", "bob", env=ENV).stdout
    assert cli_json(folder, "user", "show", "bob")["disabled_at"] is not None
    enabled = run(folder, "user", "enable", "bob@example.org", env=ENV)
    assert enabled.returncode == 0 and enabled.stdout.startswith("Enabled bob")
    assert cli_json(folder, "user", "show", "bob")["disabled_at"] is None

    desk = client_ids(folder)[0]
    assert cli_json(folder, "app", "disable", desk) == {
        "client_id": desk, "name": "Desk", "disabled": True, "changed": True}
    assert cli_json(folder, "app", "show", desk)["disabled_at"] is not None
    assert cli_json(folder, "app", "enable", desk)["changed"] is True
    assert_one_line_error(run(folder, "app", "disable", "opc_nothing", env=ENV),
                          "no application with client ID 'opc_nothing'")
    events = [json.loads(line) for line in
              run(folder, "security-log", "--limit", "10", env=ENV).stdout.splitlines()]
    kinds = [e["kind"] for e in events]
    assert kinds[:4] == ["client.enabled", "client.disabled", "account.enabled",
                         "account.disabled"]
    assert events[0]["detail"] == {"by": "operator"} and events[0]["client_id"] == desk


def test_set_password_checks_it_as_sign_up_does(folder: Path) -> None:
    refused = run(folder, "user", "set-password", "bob", "--password-stdin", stdin="short\n",
                  env=ENV)
    assert_one_line_error(refused, "invalid password: A password needs at least 8 characters.")
    assert_one_line_error(run(folder, "user", "set-password", "bob", stdin=PASSWORD, env=ENV),
                          "--password-stdin")
    done = cli_json(folder, "user", "set-password", "bob", "--password-stdin",
                    stdin="a new long password\n")
    assert done == {"id": 2, "username": "bob", "password_changed": True}
    events = [json.loads(line) for line in
              run(folder, "security-log", "--user", "bob", env=ENV).stdout.splitlines()]
    assert events[0]["kind"] == "password.changed" and events[0]["detail"] == {"by": "operator"}
    # The secret never reaches the database or the log as text.
    raw = b"".join(path.read_bytes() for path in folder.glob("cli.db*"))
    assert b"a new long password" not in raw
    # Bob is told, by a message queued for the server's mail worker.
    queued = json.loads(run(folder, "mail", "list", "--json", env=ENV).stdout)
    assert [(m["kind"], m["recipient"], m["state"]) for m in queued] == [
        ("account.changed", "bob@example.org", "queued")], queued


def test_app_list_and_show(folder: Path) -> None:
    listed = cli_json(folder, "app", "list", "--search", "100%")
    apps = listed["apps"]
    assert listed["total"] == 1 and isinstance(apps, list) and apps[0]["name"] == "Phone 100%"
    assert apps[0]["owner"] == "ann" and apps[0]["public"] is False
    desk = client_ids(folder)[0]
    shown = cli_json(folder, "app", "show", desk)
    assert shown["name"] == "Desk" and shown["allowed_by"] == 0 and shown["maps"] == 0
    assert shown["redirect_uris"] == ["https://app.example.com/cb"]
    fields = _fields(run(folder, "app", "show", desk, env=ENV).stdout)
    assert fields["owner"] == "ann" and fields["disabled"] == "no"
    text = run(folder, "app", "list", env=ENV).stdout.splitlines()
    assert text[-1] == "showing 1-2 of 2 applications"


def test_delete_refuses_without_yes_and_then_deletes(folder: Path) -> None:
    refused = run(folder, "user", "delete", "ann", env=ENV)
    assert_one_line_error(refused, "not deleted: this deletes ann with their 2 applications and "
                                   "0 maps, for good; add --yes to do it")
    assert cli_json(folder, "user", "list")["total"] == 3
    desk = client_ids(folder)[0]
    assert_one_line_error(run(folder, "app", "delete", desk, env=ENV), "add --yes")
    assert cli_json(folder, "app", "delete", desk, "--yes") == {
        "client_id": desk, "name": "Desk", "deleted": True}
    assert client_ids(folder) != [] and desk not in client_ids(folder)
    gone = run(folder, "user", "delete", "ann", "--yes", env=ENV)
    assert gone.returncode == 0 and gone.stdout.startswith("Deleted ann with 1 applications")
    assert cli_json(folder, "user", "list")["total"] == 2
    assert cli_json(folder, "app", "list")["total"] == 0
    assert_one_line_error(run(folder, "user", "delete", "ann", "--yes", env=ENV), "no user")
    events = [json.loads(line) for line in
              run(folder, "security-log", "--limit", "2", env=ENV).stdout.splitlines()]
    assert events[0]["kind"] == "account.deleted" and events[0]["detail"]["username"] == "ann"
    assert events[1]["kind"] == "client.deleted"
    assert events[1]["detail"] == {"by": "operator", "name": "Desk"}  # the timeline can name it
