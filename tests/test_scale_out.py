"""Several app instances on one PostgreSQL server behind a real nginx: sticky routing, sign-ins that hold on
every instance, and a session that survives the death of the instance it was played on."""

from __future__ import annotations

import os

import httpx
import pytest
from gradio_client import Client

from tests.app_fixtures import PASSWORD, make_store
from tests.conftest import script
from trainer.deploy.nginx import NginxUnavailable, nginx_binary, render
from trainer.deploy.stack import StackError, cores_for, start_stack
from trainer.roleplay.session import Sessions

LINES = script("vp_budget_review", "discovery")[:3]


@pytest.fixture
def nginx() -> str:
    try:
        return nginx_binary()
    except NginxUnavailable as exc:
        if os.environ.get("TRAINER_REQUIRE_NGINX") == "1":
            raise
        pytest.skip(str(exc))


def instance_of(client: Client, url: str) -> str:
    """Which instance the proxy routes this client to (its cookies pick it)."""
    answer = httpx.get(url + "config", cookies=client.cookies, timeout=10)
    assert answer.status_code == 200, answer.text[:200]
    return answer.headers["x-trainer-instance"]


def cores_of(pid: int) -> set[frozenset[int]]:
    """The cores each thread of a process may run on."""
    return {frozenset(os.sched_getaffinity(int(t))) for t in os.listdir(f"/proc/{pid}/task")}


def test_instances_get_a_core_each_only_while_there_are_enough():
    usable = sorted(os.sched_getaffinity(0))
    assert cores_for(len(usable)) == usable
    assert cores_for(len(usable) + 1) is None  # more instances than cores: the kernel places them


def test_the_shipped_nginx_config_fills_every_placeholder(tmp_path):
    text = render("127.0.0.1:8080", ["127.0.0.1:7001", "127.0.0.1:7002"], tmp_path)
    body = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any("@" in line for line in body)
    assert "hash $trainer_route consistent;" in text and "proxy_buffering off;" in text
    assert sum("weight=10 max_fails=3 fail_timeout=10s;" in line for line in body) == 2  # even shares


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_session_moves_to_another_instance_when_its_own_is_killed(tmp_path, catalog, database_url, nginx):
    store = make_store(tmp_path, url=database_url)
    stack = start_stack(instances=2, database_url=database_url)
    try:
        password = database_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        assert password not in repr(stack)  # should a stack end up in a log or a traceback
        url = stack.url
        if len(os.sched_getaffinity(0)) >= 2:  # each instance, every thread of it, on a core of its own
            pinned = [cores_of(i.process.pid) for i in stack.instances]
            assert all(len(cores) == 1 and len(next(iter(cores))) == 1 for cores in pinned), pinned
            assert pinned[0] != pinned[1]
        ravi = Client(url, auth=("ravi", PASSWORD), verbose=False, download_files=False)
        ravi.predict(api_name="/load")
        first = instance_of(ravi, url)
        ravi.predict("s:vp_budget_review", "Training", api_name="/start")
        for line in LINES[:2]:
            ravi.predict(line, "Training", api_name="/send")
        assert instance_of(ravi, url) == first  # sticky: every request of the page went to one instance
        call = b"Rep: What matters most this quarter?\nCustomer: The budget.\n" * 6000  # ~340 KB: nginx
        uploaded = httpx.post(  # buffers a body this size to disk, in a folder its workers must reach
            url + "gradio_api/upload", files={"files": ("call.txt", call)}, cookies=ravi.cookies, timeout=30
        )
        assert uploaded.status_code == 200, uploaded.text[:200]
        others = {instance_of(Client(url, auth=(n, PASSWORD), verbose=False), url) for n in ("rosa", "omar")}
        assert others  # other reps are routed too (to either instance)
        session_id = store.sessions_of(["ravi"])[-1].id
        before = Sessions(catalog, checkpointer=store.db.checkpointer()).view(session_id)

        dead = next(i for n, i in enumerate(stack.instances, start=1) if f"instance-{n}" == first)
        dead.kill()

        # The same browser reloads: same cookies, no new sign-in; the proxy sends it to the live instance.
        again = Client(url, verbose=False, download_files=False, httpx_kwargs={"cookies": dict(ravi.cookies)})
        assert instance_of(again, url) != first
        header = again.predict(api_name="/load")[0]
        assert "ravi" in str(header)  # still signed in: the sign-in lives in the database
        pick = again.predict(api_name="/unfinished")
        assert [value for _, value in pick["choices"]] == [session_id]
        resumed = again.predict(session_id, api_name="/resume")
        assert len(resumed[0]) == len(before.turns) == 5
        final = again.predict(LINES[2], "Training", api_name="/send")
        assert len(final[0]) == 7
    finally:
        stack.stop()
    after = Sessions(catalog, checkpointer=store.db.checkpointer()).view(session_id)
    assert after.turns[: len(before.turns)] == before.turns  # nothing stored was lost
    assert [t.text for t in after.turns if t.speaker == "trainee"] == LINES
    replay = Sessions(catalog)  # the same turns in one process: where the moved session must end up
    view = replay.start("vp_budget_review", seed=before.seed)
    for line in LINES:
        view = replay.send(view.id, line)
    assert after.turns == view.turns and after.state == view.state  # trust and layers carried over


def test_the_stack_refuses_a_sqlite_url_and_leaves_nothing_behind(tmp_path, nginx):
    import glob
    import tempfile

    pattern = f"{tempfile.gettempdir()}/trainer-stack-*"
    before = set(glob.glob(pattern))
    with pytest.raises(StackError, match="share one PostgreSQL server"):
        start_stack(instances=2, database_url=f"sqlite:///{tmp_path / 'one.db'}")
    assert set(glob.glob(pattern)) == before


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_stack_refuses_a_public_proxy_while_no_users_exist(database_url, nginx):
    with pytest.raises(StackError, match="no users exist"):
        start_stack(instances=1, database_url=database_url, host="0.0.0.0")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_no_pin_leaves_an_instance_on_every_core(tmp_path, database_url, nginx):
    make_store(tmp_path, url=database_url)
    stack = start_stack(instances=1, database_url=database_url, pin_cores=False)
    try:
        assert cores_of(stack.instances[0].process.pid) == {frozenset(os.sched_getaffinity(0))}
        assert httpx.get(stack.url, timeout=10).status_code == 200
    finally:
        stack.stop()


def test_the_compose_file_fills_the_same_placeholders_in_the_same_nginx_config():
    """deploy/compose.yaml runs the config scripts/scale-out uses; every placeholder it has gets a value."""
    import re

    import yaml

    from tests.conftest import ROOT

    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    assert set(compose["services"]) == {"db", "app", "nginx"}
    nginx_service = compose["services"]["nginx"]
    assert "./nginx.conf:/etc/nginx/trainer.conf.in:ro" in nginx_service["volumes"]
    filled = set(re.findall(r"s\|(@[A-Z_]+@)\|", " ".join(nginx_service["command"])))
    body = [line for line in (ROOT / "deploy" / "nginx.conf").read_text().splitlines() if "#" not in line]
    assert filled == set(re.findall(r"@[A-Z_]+@", "\n".join(body)))
    assert "db_password" in compose["secrets"] and "PASSWORD" not in str(compose["services"]["app"])
