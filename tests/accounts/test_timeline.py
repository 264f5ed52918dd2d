"""openplate/accounts/timeline.py: every kind of security event has a sentence, and every kind
the code writes is a known kind; application names, deleted apps and runs of failures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openplate.accounts.timeline import DELETED_APP, SENTENCES, lines, sentence
from openplate.store.security_log import KINDS, SecurityEvent

PACKAGE = Path(__file__).parents[2] / "openplate"
WRITTEN = re.compile(r"""kind=["']([a-z_]+\.[a-z_.]+|[a-z_]+)["']""")


def _kinds_written_by_the_code() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "events.append" not in text and ".append(" not in text:
            continue
        for match in re.finditer(r"events\.append\((.*?)\)", text, re.DOTALL):
            found.update(WRITTEN.findall(match.group(1)))
    return found


def test_every_kind_has_a_sentence() -> None:
    missing = [kind for kind in KINDS if kind not in SENTENCES]
    assert missing == [], f"give these security-log kinds a sentence in timeline.py: {missing}"
    assert set(SENTENCES) <= set(KINDS), set(SENTENCES) - set(KINDS)


def test_every_kind_the_code_writes_is_known() -> None:
    written = _kinds_written_by_the_code()
    assert {"signin.success", "refresh.reused", "consent.granted"} <= written  # the scan works
    assert written - set(KINDS) == set()


def _event(kind: str, *, client_id: str | None = "c1", detail: dict[str, object] | None = None,
           event_id: int = 1, at: int = 1_800_000_000) -> SecurityEvent:
    return SecurityEvent(event_id, at, kind, 7, client_id, "192.0.2.1", detail or {})


@pytest.mark.parametrize("kind", KINDS)
def test_each_sentence_reads_as_a_sentence(kind: str) -> None:
    text, _ = sentence(_event(kind), {"c1": "Demo Mapper"})
    assert text[0].isupper() and text.endswith("."), text
    assert "c1" not in text
    assert "c1" not in text and "None" not in text


def test_applications_are_named_and_deleted_ones_said_so() -> None:
    names = {"c1": "Demo Mapper"}
    assert sentence(_event("consent.granted"), names)[0] == "You allowed Demo Mapper."
    assert sentence(_event("refresh.reused"), names) == (
        "Demo Mapper's refresh token was used twice; we ended its access.", True)
    assert sentence(_event("consent.granted", client_id="gone"), names)[0] == (
        f"You allowed {DELETED_APP}.")
    assert sentence(_event("client.deleted", client_id="gone", detail={"name": "Old App"}),
                    names)[0] == "You deleted your application Old App (since deleted)."
    assert sentence(_event("token.issued", client_id="gone"), names)[0] == (
        "An application that has since been deleted got access to your account.")
    assert sentence(_event("no.such_kind"), names)[0] == (
        "Something happened on your account (no.such_kind).")


def test_an_applications_own_name_is_kept_as_it_is_and_marked_for_isolation() -> None:
    names = {"c1": "mapper ✓", "c2": "خريطة"}
    told = lines([_event("token.issued", event_id=2), _event("consent.granted", client_id="c2"),
                  _event("token.issued", client_id="gone", event_id=0)], names)
    assert [(line.text, line.app) for line in told] == [
        ("mapper ✓ got access to your account.", "mapper ✓"),
        ("You allowed خريطة.", "خريطة"),
        ("An application that has since been deleted got access to your account.",
         "An application that has since been deleted")]


def test_a_run_of_failed_sign_ins_is_one_line() -> None:
    events = [_event("signin.failure", event_id=9 - n, at=100 - n, client_id=None)
              for n in range(5)]
    events.append(_event("signin.success", event_id=3, client_id=None))
    events.append(_event("signin.failure", event_id=2, client_id=None))
    told = lines(events, {})
    assert [line.text for line in told] == [
        "Someone failed to sign in to your account 5 times.", "You signed in.",
        "Someone failed to sign in to your account."]
    assert told[0].at == 100 and told[0].alarming and not told[1].alarming
