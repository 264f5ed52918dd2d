"""``openplate category add|list|remove`` as an operator runs them (real processes): JSON with
``--json`` and text without, one-line refusals (exit 2 for a usage error), and what removing a
category in use does to its maps."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import assert_one_line_error, run, run_here

ENV = {"OPENPLATE_SECRET_KEY": "k" * 48}


def cli_json(folder: Path, *args: str) -> dict[str, object]:
    done = run(folder, *args, "--json", env=ENV)
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def test_add_list_remove(tmp_path: Path) -> None:
    added = cli_json(tmp_path, "category", "add", "health", "--name", "  Health & Care ")
    assert added["slug"] == "health" and added["name"] == "Health & Care"
    text = run(tmp_path, "category", "add", "arts", "--name", "Arts", env=ENV)
    assert text.returncode == 0 and text.stdout == "Added the category Arts (arts).\n"
    assert_one_line_error(run(tmp_path, "category", "add", "arts", "--name", "Again", env=ENV),
                          "there is a category 'arts' already")

    listed = cli_json(tmp_path, "category", "list")["categories"]
    assert isinstance(listed, list)
    assert [(c["slug"], c["name"], c["maps"], c["public_maps"]) for c in listed] == [
        ("arts", "Arts", 0, 0), ("health", "Health & Care", 0, 0)]
    table = run(tmp_path, "category", "list", env=ENV).stdout.splitlines()
    assert table[0].split() == ["slug", "name", "maps", "public", "created"]
    assert table[2].startswith("health") and "Health & Care" in table[2]

    # Two maps in health (one private): removing it needs --yes and says what it does.
    db = sqlite3.connect(tmp_path / "cli.db")
    db.execute("INSERT INTO users (username, username_key, email, email_key, password_hash, "
               "created_at, password_changed_at) VALUES ('a', 'a', 'a@x.org', 'a@x.org', 'x', 1, 1)")
    for n, visibility in enumerate(("public", "private")):
        db.execute("INSERT INTO maps (public_id, slug, title, description, owner_id, format, "
                   "filename, media_type, size, has_thumbnail, outline, topic_count, created_at, "
                   "visibility, category_id) VALUES (?, 'm', 'M', '', 1, 'xmind', 'm.xmind', 'x', "
                   "1, 0, '[]', 1, 1, ?, (SELECT id FROM categories WHERE slug = 'health'))",
                   (f"mapmap{n}", visibility))
    db.commit()
    listed = cli_json(tmp_path, "category", "list")["categories"]
    assert [(c["maps"], c["public_maps"]) for c in listed] == [(0, 0), (2, 1)]  # type: ignore[index]
    assert_one_line_error(run(tmp_path, "category", "remove", "health", env=ENV),
                          "not removed: 2 maps are in Health & Care (health) and would be left "
                          "without a category; add --yes to remove it")
    removed = cli_json(tmp_path, "category", "remove", "health", "--yes")
    assert removed == {"slug": "health", "name": "Health & Care", "removed": True,
                       "maps_uncategorised": 2}
    assert db.execute("SELECT count(*) FROM maps WHERE category_id IS NULL").fetchone() == (2,)
    db.close()
    gone = run(tmp_path, "category", "remove", "arts", "--yes", env=ENV)
    assert gone.returncode == 0
    assert gone.stdout.splitlines() == ["removed:                      Arts (arts)",
                                        "maps left without a category: 0"]
    assert_one_line_error(run(tmp_path, "category", "remove", "arts", "--yes", env=ENV),
                          "no category 'arts'")
    assert run(tmp_path, "category", "list", env=ENV).stdout == (
        "no categories (openplate category add SLUG --name NAME adds one)\n")


@pytest.mark.parametrize("args, words", [
    (("category",), "error:"),
    (("category", "add", "x"), "--name"),
    (("category", "add", "Bad Slug", "--name", "x"), "SLUG"),
    (("category", "add", "a--b", "--name", "x"), "SLUG"),
    (("category", "add", "s" * 41, "--name", "x"), "SLUG"),
    (("category", "add", "ok", "--name", ""), "--name"),
    (("category", "add", "ok", "--name", "n" * 81), "--name"),
    (("category", "remove"), "SLUG"),
    (("category", "remove", "UPPER", "--yes"), "SLUG"),
    (("category", "list", "--bogus"), "--bogus"),
])
def test_usage_errors_are_one_line_and_make_nothing(tmp_path: Path, args: tuple[str, ...],
                                                    words: str) -> None:
    refused = run_here(tmp_path, *args)
    assert refused.returncode == 2
    assert_one_line_error(refused, words)
    assert list(tmp_path.iterdir()) == []


def test_list_and_remove_never_make_a_database(tmp_path: Path) -> None:
    for args in (("category", "list"), ("category", "remove", "x", "--yes")):
        refused = run_here(tmp_path, *args)
        assert_one_line_error(refused, "no database at")
    assert list(tmp_path.iterdir()) == []
