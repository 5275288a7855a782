"""The exercises of chapters 01–07 (issue 13): each answer judged as "Check your work" judges,
a hint to reveal, the solution revealed only after a wrong answer, an empty answer judged by
the solution (Run All), and ``python -m helpers solutions`` printing each solution from the
one source the learner's button reads.

AWS rules the checks state, and their sources:
- 01: CreateSubnet (Amazon EC2 API Reference): "A subnet CIDR block must not overlap the CIDR
  block of an existing subnet in the VPC"; its block is the VPC's or a subset of it.
- 02: "Control access to VPC endpoints using endpoint policies" (AWS PrivateLink Guide): an
  endpoint policy must contain a Principal element; the account part of an ARN in Resource may
  be an account id or a wildcard.
- 03: PutItem (DynamoDB API Reference): "If an item that has the same primary key as the new
  item already exists in the specified table, the new item completely replaces the existing
  item"; UpdateItem edits an existing item's attributes.
- 04: "Security best practices in IAM" (IAM User Guide): apply least-privilege permissions.
- 05: GetItem (DynamoDB API Reference): Key must give all of the primary key's attributes;
  otherwise ValidationException "The provided key element does not match the schema".
"""

from __future__ import annotations

import json
from html import unescape

import pytest
from test_endpoint_form import READ_ONLY_POLICY as ENDPOINT_FORMS_READ_ONLY_POLICY

from helpers import LabError, chapter
from helpers.aws import exercises, reachability
from helpers.cli import main
from helpers.core.messages import catalogue, t

READ_ONLY_POLICY = json.loads(ENDPOINT_FORMS_READ_ONLY_POLICY)
FULL_ACCESS_POLICY = {
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]
}

# Each exercise with wrong answers, and the check each one must turn red.
WRONG_ANSWERS = {
    "subnet_cidr": [
        ("10.0.0.0/24", "subnet_cidr_check_free"),  # inside the wizard's public 10.0.0.0/20
        ("10.1.0.0/24", "subnet_cidr_check_inside"),
        ("10.0.192.0/20", "subnet_cidr_check_size"),
        ("10.0.200.1/24", "subnet_cidr_check_block"),  # host bits set: not a network address
    ],
    "endpoint_policy": [
        (READ_ONLY_POLICY, "endpoint_policy_check_note_app"),
        (FULL_ACCESS_POLICY, "endpoint_policy_check_other"),
        ({"Statement": [{"Effect": "Allow", "Action": "*"}]}, "endpoint_policy_check_valid"),
        ("{not json", "endpoint_policy_check_valid"),
    ],
    "keep_created_at": [
        ({"action": "add", "id": "1", "text": "Buy oat milk"}, "keep_created_at_check_date"),
        ({"action": "update", "id": "2", "text": "Buy oat milk"}, "keep_created_at_check_answered"),
    ],
    "role_actions": [
        (["dynamodb:*"], "role_actions_check_only"),
        (["dynamodb:GetItem", "dynamodb:Scan"], "role_actions_check_every"),
        ("dynamodb:PutItem", "role_actions_check_list"),
    ],
    "get_item_key": [
        ({"id": "first"}, "get_item_key_check_types"),
        ({"note_id": {"S": "first"}}, "get_item_key_check_names"),
        ({"id": {"N": "1"}}, "get_item_key_check_types"),
        ({"id": {"S": "second"}}, "get_item_key_check_note"),
    ],
    "request_body": [
        ("title=Groceries&text=Buy milk", "request_body_check_created"),
        ({"title": "Groceries"}, "request_body_check_fields"),
    ],
    "broken_hop": [("endpoint policy", "broken_hop_check_named")],
}
ORDER = [exercise.key for exercise in exercises.EXERCISES]


@pytest.fixture(scope="module")
def built_lab(empty_lab):
    """Every chapter up to 06 built with the defaults (what Run All makes)."""
    empty_lab()
    chapter("07").catch_up_earlier()


@pytest.fixture
def broken_path(built_lab):
    """Chapter 07's diagnosis: one hop broken without saying which, put back afterwards."""
    response = chapter("07").mystery_break()
    yield response
    chapter("07").restore()


def _view(key: str, answer):
    exercise = exercises.exercise(key)
    return chapter(exercise.chapter).exercise(key, answer)


def _red(view) -> list[str]:
    return [check.what for check in view.checks if not check.ok]


def _needs_break(key: str, request):
    if key == "broken_hop":
        request.getfixturevalue("broken_path")
    else:
        request.getfixturevalue("built_lab")


def test_every_building_chapter_has_an_exercise():
    assert sorted({e.chapter for e in exercises.EXERCISES}) == [f"0{n}" for n in range(1, 8)]
    assert sorted(WRONG_ANSWERS) == sorted(ORDER)


@pytest.mark.parametrize("key", ORDER)
def test_the_solution_passes_every_check(key, request):
    _needs_break(key, request)
    view = _view(key, exercises.exercise(key).solution)
    assert view.ok, _red(view)
    assert not view.used_solution
    assert not view.solution_available  # nothing to fix: the solution stays closed


@pytest.mark.parametrize("key", ORDER)
def test_an_empty_answer_checks_the_solution_and_says_so(key, request):
    _needs_break(key, request)
    view = _view(key, "")
    assert view.used_solution and view.ok, _red(view)
    assert view.answer == exercises.exercise(key).solution
    # the cell says it used the solution, and shows it
    assert "You left the answer empty" in view.report.value
    assert "lab-solution" in view.report.value


@pytest.mark.parametrize(
    "key, answer, red",
    [(key, answer, red) for key, wrong in WRONG_ANSWERS.items() for answer, red in wrong],
)
def test_a_wrong_answer_is_red_with_a_hint_and_then_the_solution(key, answer, red, request):
    _needs_break(key, request)
    view = _view(key, answer)
    assert not view.ok
    # the check's own words, up to its first value
    wording = catalogue()[f"exercises.{red}"]["en"].split("{")[0]
    assert any(what.startswith(wording) for what in _red(view)), _red(view)
    assert "Not yet" in view.report.value
    # the hint is one click away
    assert view.revealed.value == ""
    view.hint_button.click()
    assert exercises.exercise(key).hint[:40] in unescape(view.revealed.value)
    # after this wrong attempt, the solution can be revealed
    assert view.solution_available
    view.solution_button.click()
    assert "lab-solution" in view.revealed.value


def test_the_diagnosis_break_shows_only_the_answer_and_breaks_the_route(broken_path):
    """Chapter 07's break leaves DynamoDB unreachable from the private subnet: the note app's
    call times out (API Gateway answers 502) and the path walk's first red hop is the route."""
    assert broken_path.response.status == 502
    assert reachability.explain().first_failed.key == exercises.exercise("broken_hop").solution


def test_the_diagnosis_says_when_the_path_is_whole(built_lab):
    view = _view("broken_hop", "route")
    assert not view.ok
    assert _red(view) == [t("exercises.broken_hop_check_broken")]


def test_an_exercise_of_another_chapter_is_refused(built_lab):
    with pytest.raises(LabError) as refused:
        chapter("02").exercise("subnet_cidr", "10.0.200.0/24")
    assert refused.value.key == "exercises.not_in_chapter"
    assert "endpoint_policy" in refused.value.message


def test_solutions_prints_every_solution_from_its_one_source(capsys):
    assert main(["solutions"]) == 0
    printed = capsys.readouterr().out
    for exercise in exercises.EXERCISES:
        assert exercise.solution_text() in printed
        assert exercise.why in printed
        assert f"Chapter {exercise.chapter}" in printed


def test_solutions_for_one_chapter_and_for_a_chapter_without_any(capsys):
    assert main(["solutions", "3"]) == 0
    printed = capsys.readouterr().out
    assert json.dumps(exercises.exercise("keep_created_at").solution, indent=2) in printed
    assert "note_tbl" not in printed.split("Why:")[0]  # only chapter 03's
    assert main(["solutions", "08"]) == 2
    assert "Chapter 08 has no exercise" in capsys.readouterr().err


def test_solutions_in_vietnamese(capsys, monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    assert main(["solutions", "07"]) == 0
    printed = capsys.readouterr().out
    assert "Lời giải:" in printed and "route" in printed


def test_the_subnet_solution_fits_the_learners_own_vpc(empty_lab):
    """Chapter 01's solution is read from the learner's VPC, not the workshop's: beside a
    VPC of 10.42.0.0/16 (the learner's choice in the VPC form) it is a free /24 of that VPC,
    and every check is green. Before any lab exists it is the workshop network's first free
    /24 (its subnets are 10.0.0.0/20 and 10.0.128.0/20, BRIEF.md's 2.1.1)."""
    from helpers.views.forms.vpc import VpcForm

    empty_lab()
    assert exercises.exercise("subnet_cidr").solution == "10.0.16.0/24"
    form = VpcForm()
    form.progress = lambda *_: None
    assert form.submit(cidr="10.42.0.0/16").ok
    solution = exercises.exercise("subnet_cidr").solution
    assert solution.startswith("10.42.")
    view = _view("subnet_cidr", solution)
    assert view.ok, _red(view)
