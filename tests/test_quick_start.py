"""The README's two commands work on one machine in either order: the quick start, which installs
Openplate into .venv and serves from that installed copy, and the test command, which installs
the suite's own environment and runs tests. Neither may break the other: running the tests once
reinstalled the package under a running quick-start server, whose next page then had no template
to render and whose first upload had no parser to import.

Both commands run here for real, as the README spells them (read from it), in a copy of the
project; the quick start listens on a free port (``OPENPLATE_PORT``) rather than on 8000, where
a server of the machine's own may be. The test command runs two real tests: one starts a server
and one drives the command line, each in a folder of its own, as the whole suite does."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.mindmaps import make_xmind_json
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[1]
QUICK_START = "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/openplate serve"
TEST_COMMAND = "bash scripts/test.sh"
#: What the test command runs in the copy: a test that starts a server and answers 200 requests,
#: and one that runs the command line (each in a folder of its own, as every test does).
TESTS = ["tests/test_serve_start.py::test_the_garbage_collector_runs_again_once_serve_has_started",
         "tests/test_cli.py::test_user_and_app_lifecycle"]
#: Installing into a new virtual environment takes minutes on a slow machine: this only bounds
#: how long a broken install may take to report itself.
INSTALL_DEADLINE = 900


def test_the_readme_gives_these_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert blocks[:2] == [QUICK_START, TEST_COMMAND]


def _suite_venv() -> str:
    """The virtual environment the test command installs into (scripts/test.sh's VENV)."""
    found = re.search(r"^VENV=(\S+)$", (ROOT / "scripts" / "test.sh").read_text(), re.MULTILINE)
    assert found, "scripts/test.sh names its virtual environment in VENV="
    return found.group(1)


def _clean_env() -> dict[str, str]:
    """The environment of a shell on this machine: no virtual environment active and no
    Openplate settings (the suite's own OPENPLATE_TEST_* aside)."""
    return {name: value for name, value in os.environ.items()
            if not (name.startswith("OPENPLATE_") and not name.startswith("OPENPLATE_TEST_"))
            and name not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the project as a checkout has it: no environments, caches or databases. It is
    removed afterwards (its two virtual environments take hundreds of megabytes)."""
    folder = tmp_path_factory.mktemp("checkout") / "openplate"
    shutil.copytree(ROOT, folder, ignore=shutil.ignore_patterns(
        ".venv*", ".git", "__pycache__", ".*_cache", ".hypothesis", "build", "dist", "*.egg-info",
        "node_modules", "results", "openplate.db*", "openplate-secret.key"))
    yield folder
    shutil.rmtree(folder.parent, ignore_errors=True)


BASH = shutil.which("bash") or "/bin/bash"
Cli = Callable[..., str]


@dataclass
class Served:
    """A server started in a process group of its own (the shell and the server it runs)."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def wait_until_answering(self) -> None:
        deadline = time.monotonic() + INSTALL_DEADLINE
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise AssertionError(f"it stopped before answering:\n{self.text()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer from {self.url} after {INSTALL_DEADLINE}s of "
                                     f"installing and starting:\n{self.text()[-4000:]}")
            time.sleep(0.2)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _serve(command: list[str], folder: Path, env: dict[str, str], log: Path) -> Served:
    port = free_port()
    process = subprocess.Popen(command, cwd=folder, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                               env={**env, "OPENPLATE_PORT": str(port)}, start_new_session=True)
    return Served(f"http://127.0.0.1:{port}", process, log)


def _start_quick_start(project: Path) -> Served:
    """The quick start's command as the README gives it, on a free port."""
    return _serve([BASH, "-c", QUICK_START], project, _clean_env(), project / "quick-start.log")


def _quick_start_cli(project: Path) -> Cli:
    """The quick start's own ``openplate`` (from .venv), on its database in the project folder."""
    return _cli_of([str(project / ".venv" / "bin" / "openplate")], project, _clean_env())


def _run_tests(project: Path) -> None:
    """The README's test command, on the two tests above."""
    done = subprocess.run([BASH, "-c", f"{TEST_COMMAND} -q -p no:cacheprovider {' '.join(TESTS)}"],
                          cwd=project, env=_clean_env(), capture_output=True, text=True,
                          timeout=INSTALL_DEADLINE)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    assert "2 passed" in done.stdout, done.stdout[-3000:]


def _cli_of(command: list[str], folder: Path, env: dict[str, str]) -> Cli:
    """``command ARGS`` in ``folder``: an ``openplate`` and the database it works on."""

    def cli(*args: str, stdin: str = "") -> str:
        done = subprocess.run([*command, *args], cwd=folder, env=env, input=stdin,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return cli


def _assert_serves_everything(url: str, cli: Cli) -> None:
    """Pages (each template is read on its first use), the stylesheet and the API docs, then an
    upload (the map parsers are imported on the first one) and the map's own page."""
    with httpx.Client(base_url=url, timeout=30) as client:
        for path in ("/", "/signin", "/signup", "/static/site.css", "/docs", "/openapi.json"):
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
        missing = client.get("/no-such-page", headers={"Accept": "text/html"})
        assert missing.status_code == 404 and "<html" in missing.text.lower()

        suffix = f"{time.time_ns() % 10**9}"
        cli("user", "create", "--email", f"qs{suffix}@example.org", "--username",
             f"qs{suffix}", "--password-stdin", stdin="correct horse battery staple\n")
        robot = cli("app", "create", "--owner", f"qs{suffix}", "--name", "Robot",
                     "--grant-type", "client_credentials", "--json")
        app = json.loads(robot)
        token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(app["client_id"], app["client_secret"]))
        assert token.status_code == 200, token.text
        upload = client.post("/maps", headers={"Authorization": f"Bearer {token.json()['access_token']}"},
                             files={"map": ("plan.xmind", make_xmind_json("Quick start plan"))})
        assert upload.status_code == 201, upload.text
        page = client.get(upload.json()["url"])
        assert page.status_code == 200 and "Quick start plan" in page.text


def test_running_the_tests_never_breaks_a_quick_start_server(project: Path) -> None:
    quick = _start_quick_start(project)
    try:
        quick.wait_until_answering()
        key = (project / "openplate-secret.key").read_bytes()

        _run_tests(project)  # installs the suite's environment, then runs real tests

        assert quick.process.poll() is None, quick.text()[-4000:]
        _assert_serves_everything(quick.url, _quick_start_cli(project))
        assert (project / "openplate-secret.key").read_bytes() == key
        assert "Traceback" not in quick.text() and '"level": "error"' not in quick.text()
    finally:
        quick.stop()


def test_the_quick_start_never_breaks_the_tests(project: Path) -> None:
    _run_tests(project)
    # A server as the tests start one, from the suite's environment, serving while the quick
    # start installs Openplate into .venv and serves from there.
    suite_python = str(project / _suite_venv() / "bin" / "python")
    folder = project.parent / "suite-server"
    folder.mkdir(exist_ok=True)
    env = {**_clean_env(), "OPENPLATE_DATABASE_URL": f"sqlite:///{folder / 'openplate.db'}",
           "OPENPLATE_SECRET_KEY": "suite-secret-" + "s" * 40}
    suite = _serve([suite_python, "-m", "openplate.cli", "serve"], folder, env, folder / "server.log")
    try:
        suite.wait_until_answering()
        quick = _start_quick_start(project)
        try:
            quick.wait_until_answering()
            # The suite still imports the project's source, not the copy the quick start installed,
            # and its server's first pages and upload, after that install, are served.
            where = subprocess.run([suite_python, "-c", "import openplate; print(openplate.__file__)"],
                                   cwd=folder, env=env, capture_output=True, text=True, timeout=60,
                                   check=True).stdout.strip()
            assert Path(where) == project / "openplate" / "__init__.py"
            _assert_serves_everything(suite.url, _cli_of([suite_python, "-m", "openplate.cli"], folder, env))
            assert "Traceback" not in suite.text()
            _assert_serves_everything(quick.url, _quick_start_cli(project))
        finally:
            quick.stop()
    finally:
        suite.stop()
