"""Manager actions as plain functions: assign, status, dashboard, CSV, review and comment; team boundaries."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from tests.app_fixtures import make_world
from tests.conftest import script
from trainer.grader.scorecard import DIMENSIONS
from trainer.roleplay.session import SessionError
from trainer.team.access import AccessDenied
from trainer.web.charts import heatmap_html
from trainer.web.views import status_html


@pytest.fixture
def world(tmp_path, catalog, database_url):
    """The app over a SQLite file, and again over a real PostgreSQL server."""
    return make_world(tmp_path, catalog, url=database_url)


def play(world, user, key, lines):
    view = world.app.start(user, key, "training", seed=1)
    for line in lines:
        if view.ended:
            break
        view = world.app.send(user, view.id, line)
    if not view.ended:
        world.app.end(user, view.id)
    return view


def key_for(world, user, scenario_id):
    return next(
        o.key for o in world.app.scenario_options(user) if o.assignment and o.scenario_id == scenario_id
    )


def test_assign_to_named_reps_or_the_whole_team_and_reps_see_it(world):
    maya = world["maya"]
    made = world.app.assign(maya, "cio_poc_checkin", ["ravi"], due="2031-01-31", pass_mark=75)
    assert len(made) == 1 and made[0].assignee == "ravi" and made[0].pass_mark == 75
    world.app.assign(maya, "hallway_one_to_one", whole_team=True, due="2031-02-28", pass_mark=60)
    ravi_sees = {o.scenario_id for o in world.app.scenario_options(world["ravi"]) if o.assignment}
    rosa_sees = {o.scenario_id for o in world.app.scenario_options(world["rosa"]) if o.assignment}
    omar_sees = {o.scenario_id for o in world.app.scenario_options(world["omar"]) if o.assignment}
    assert ravi_sees == {"cio_poc_checkin", "hallway_one_to_one"}
    assert rosa_sees == {"hallway_one_to_one"} and omar_sees == set()


def test_assign_refuses_reps_outside_the_team_bad_dates_and_non_managers(world):
    maya = world["maya"]
    with pytest.raises(AccessDenied, match="Not in your team: omar"):
        world.app.assign(maya, "cio_poc_checkin", ["omar"])
    with pytest.raises(SessionError, match="YYYY-MM-DD"):
        world.app.assign(maya, "cio_poc_checkin", ["ravi"], due="next friday")
    with pytest.raises(SessionError, match="at least one rep"):
        world.app.assign(maya, "cio_poc_checkin", [])
    with pytest.raises(AccessDenied, match="Only managers"):
        world.app.assign(world["ravi"], "cio_poc_checkin", ["rosa"])
    assert world.store.team_assignments("east") == []


def test_status_shows_not_started_in_progress_passed_stuck_and_overdue(world):
    maya, ravi, rosa = world["maya"], world["ravi"], world["rosa"]
    world.app.assign(maya, "vp_budget_review", ["ravi", "rosa"], pass_mark=70)
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    world.app.assign(maya, "cio_poc_checkin", ["rosa"], due=yesterday, pass_mark=70)
    status = {(r.rep, r.scenario_id): r for r in world.app.status(maya)}
    assert status[("ravi", "vp_budget_review")].status == "not started"
    assert status[("rosa", "cio_poc_checkin")].status == "overdue"

    key = key_for(world, ravi, "vp_budget_review")
    world.app.start(ravi, key)  # started, nothing scored yet
    assert {(r.rep, r.scenario_id): r for r in world.app.status(maya)}[
        ("ravi", "vp_budget_review")
    ].status == ("in progress")
    play(world, ravi, key, script("vp_budget_review", "discovery"))
    rosa_key = key_for(world, rosa, "vp_budget_review")
    play(world, rosa, rosa_key, script("vp_budget_review", "pitch") * 3)
    play(world, rosa, rosa_key, script("vp_budget_review", "pitch") * 3)
    status = {(r.rep, r.scenario_id): r for r in world.app.status(maya)}
    assert status[("ravi", "vp_budget_review")].status == "passed"
    stuck = status[("rosa", "vp_budget_review")]
    assert stuck.status == "stuck" and stuck.attempts == 2 and stuck.best < 70
    html = status_html(list(status.values()))
    assert "pill-pass" in html and "pill-fail" in html and "pill-warn" in html


def test_dashboard_has_best_and_latest_trends_and_each_reps_weakest_dimension(world):
    maya, ravi, rosa = world["maya"], world["ravi"], world["rosa"]
    play(world, ravi, "s:vp_budget_review", script("vp_budget_review", "pitch") * 3)
    play(world, ravi, "s:vp_budget_review", script("vp_budget_review", "discovery"))
    play(world, rosa, "s:cio_poc_checkin", script("cio_poc_checkin", "discovery"))
    play(world, world["omar"], "s:cio_poc_checkin", script("cio_poc_checkin", "discovery"))  # other team
    board = world.app.dashboard(maya)
    assert board.reps == ["ravi", "rosa"]
    ravi_vp = next(s for s in board.scores if s["rep"] == "ravi")
    assert ravi_vp["attempts"] == 2 and ravi_vp["best"] == ravi_vp["latest"] > 70
    first, second = (v for _, v in board.trends["ravi"])
    assert first < second
    assert "omar" not in board.trends and "omar" not in board.dimensions
    assert set(board.dimensions["rosa"]) == set(DIMENSIONS)
    weakest = min(board.dimensions["rosa"], key=board.dimensions["rosa"].get)
    html = heatmap_html(board.dimensions, DIMENSIONS)
    assert html.count("weakest") == 2  # one outlined cell per rep
    assert weakest.replace("_", " ").split()[0].capitalize() in html


def test_csv_export_has_one_row_per_team_session_with_dimensions(world):
    play(world, world["ravi"], "s:vp_budget_review", script("vp_budget_review", "discovery"))
    play(world, world["omar"], "s:vp_budget_review", script("vp_budget_review", "discovery"))
    rows = list(csv.DictReader(io.StringIO(world.app.export_csv(world["maya"]))))
    assert [r["rep"] for r in rows] == ["ravi"]
    assert float(rows[0]["overall"]) > 70 and rows[0]["passed"] == "yes"
    assert all(rows[0][d] != "" for d in DIMENSIONS)
    with pytest.raises(AccessDenied):
        world.app.export_csv(world["ravi"])


def test_manager_reviews_a_team_session_and_the_rep_sees_the_comment(world):
    maya, ravi = world["maya"], world["ravi"]
    view = play(world, ravi, "s:vp_budget_review", script("vp_budget_review", "discovery"))
    assert [r.id for r in world.app.team_sessions(maya)] == [view.id]
    opened = world.app.open(maya, view.id)
    assert opened.scorecard is not None and opened.row.username == "ravi"
    world.app.comment(
        maya, view.id, "Great follow-up on the CFO pressure. Next time ask for the meeting sooner."
    )
    seen = world.app.open(ravi, view.id).comments
    assert [c.author for c in seen] == ["maya"] and "CFO pressure" in seen[0].text
    assert world.store.comment_counts([view.id]) == {view.id: 1}


def test_a_manager_cannot_see_or_comment_on_another_teams_sessions(world):
    view = play(world, world["omar"], "s:vp_budget_review", script("vp_budget_review", "discovery")[:2])
    maya = world["maya"]
    with pytest.raises(AccessDenied):
        world.app.open(maya, view.id)
    with pytest.raises(AccessDenied):
        world.app.comment(maya, view.id, "Nice")
    with pytest.raises(AccessDenied):
        world.app.send(world["wen"], view.id, "I'm the manager, let me try")  # even their own manager
    assert world.app.open(world["wen"], view.id).row.username == "omar"
    assert world.store.comments(view.id) == []
