"""Behaviour of the offline per-turn classifier as a user of the grader would notice it.

The examples are hand-written sales turns pinning the label definitions (customer / pitch /
neutral; open / closed / none); none of them come from the external corpora.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from trainer.evals.calibration import calibrate, format_table, score_rows
from trainer.evals.labelled_sets import annomi_conversations, load_annomi
from trainer.grader.classifier import TurnPrediction, predict, predict_many
from trainer.grader.tokens import (
    _MAX_CONTEXT_TOKENS,
    _SENT_SPLIT_RE,
    _TOKEN_RE,
)
from trainer.grader.tokens import context_tail as _context_tail
from trainer.grader.tokens import find_tokens as _find_tokens
from trainer.grader.tokens import find_words as _find_words
from trainer.grader.tokens import normalise as _normalise

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

CUSTOMER_QUESTIONS = [
    ("What's driving the push to cut vendor spend this year?", "We need to take costs out."),
    ("How are your analysts coping with the new approval process?", "The rollout was rough."),
    ("Who else on your team has to be comfortable with a change like this?", None),
    ("What would success look like for you personally by December?", "I just need to hit the number."),
]
REFLECTIONS = [
    (
        "So the board expects the cost savings to land before Q3.",
        "The board wants this done before the third quarter.",
    ),
    ("It sounds like your people are exhausted after the last migration.", "My team worked every weekend."),
    ("You're worried that another rocky rollout lands on you personally.", "If this fails, it's on me."),
]
PITCH_STATEMENTS = [
    ("Our platform cuts logistics software spend by about twenty percent.", "We need to cut costs."),
    ("We integrate with your ERP out of the box and include migration at no charge.", None),
    ("The enterprise licence is ninety dollars per seat per month.", "What does it cost?"),
]
PITCH_QUESTIONS = [
    ("Wouldn't it be great if our platform cut your costs by thirty percent?", "We need savings."),
    ("Have you seen our new AI triage feature?", "Tickets take too long."),
]
COMMITMENT_PUSHES = [
    ("Could we lock in a demo with your finance leads for Wednesday?", "That could be interesting."),
    ("Let's get the pilot contract signed this week so we can start onboarding.", "It looks promising."),
]
ADVICE = [
    ("Honestly, you should consolidate everything onto one vendor.", "We use four tools for this."),
    ("My advice is to roll it out to the service desk first.", "I'm not sure where to start."),
]
NEUTRAL = [
    ("Thanks so much for your time today.", "Okay, let's wrap up."),
    ("Hi Dana, good to see you again.", None),
    ("I'll send the notes right after the call.", "Can you send me a summary?"),
    ("Okay.", "Finance decides in two weeks."),
    ("mm-hmm", "And then procurement got involved."),
]


def _focus(cases: list[tuple[str, str | None]]) -> list[str]:
    return [predict(text, ctx).focus for text, ctx in cases]


@pytest.mark.parametrize("text,context", CUSTOMER_QUESTIONS + REFLECTIONS)
def test_customer_focus(text: str, context: str | None) -> None:
    assert predict(text, context).focus == "customer"


@pytest.mark.parametrize("text,context", PITCH_STATEMENTS + PITCH_QUESTIONS + COMMITMENT_PUSHES + ADVICE)
def test_pitch_focus_including_questions_and_pushes(text: str, context: str | None) -> None:
    assert predict(text, context).focus == "pitch"


@pytest.mark.parametrize("text,context", NEUTRAL)
def test_neutral_focus(text: str, context: str | None) -> None:
    assert predict(text, context).focus == "neutral"


def test_reflections_are_not_questions() -> None:
    assert all(predict(text, ctx).question is None for text, ctx in REFLECTIONS)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("What's keeping you up at night about the Q3 numbers?", "open"),
        ("How did the last rollout go with the business users?", "open"),
        ("Tell me more about the pressure from the CFO.", "open"),
        ("Is the budget already approved?", "closed"),
        ("Does procurement have a say in which vendor you pick?", "closed"),
        ("Is it the price or the contract terms that bother you?", "closed"),
        ("Our platform cuts costs by twenty percent.", None),
        ("Thanks for your time.", None),
    ],
)
def test_question_type(text: str, expected: str | None) -> None:
    assert predict(text).question == expected


# The definition (INTERFACES.md): open invites explanation; closed is yes/no, either/or or one fact.
@pytest.mark.parametrize(
    "text,expected",
    [
        # One fact asked with a wh-word is still closed.
        ("How many people are on the finance team?", "closed"),
        ("Which payroll provider are you with right now?", "closed"),
        ("When does the current agreement expire?", "closed"),
        ("Who signs the purchase order on your side?", "closed"),
        # Declarative and tag questions are closed.
        ("So the migration slipped past the deadline?", "closed"),
        ("Your analysts already work in the new portal, right?", "closed"),
        # Requests for an explanation are open, with or without a question mark.
        ("I'm curious how the board reacted to the forecast.", "open"),
        ("Could you tell me a little about how returns get handled today.", "open"),
        ("So, wondering what made the team push back on the last change.", "open"),
        # Why / how questions about experience stay open.
        ("Why did the first attempt at consolidation stall?", "open"),
        ("How has the team been coping since the reorganisation?", "open"),
    ],
)
def test_open_closed_definition(text: str, expected: str) -> None:
    assert predict(text).question == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        # The last complete question decides a turn that asks twice.
        ("Is it the auditors? What makes the timeline so tight?", "open"),
        ("What's behind the delay? Is it procurement?", "closed"),
        # A question cut off mid-way (spoken transcripts) is still a question.
        ("Is the headcount already-", "closed"),
        ("So how did the-- how did the sales team take the new quotas?", "open"),
        ("Is the budget-- Why did the CFO freeze it?", "open"),
        # A short tail after a dash narrows the question before it; it is not a new attempt.
        ("What would a good winter mean for you, Rafael — not for the firm, for you?", "open"),
        ("And how do you want this one to end — for you, I mean?", "open"),
        # After a leading condition or time clause, the main clause's question decides.
        ("If you could only fix one, which would it be?", "closed"),
        ("When the six weeks are up, is there one number that would tell you the pilot worked?", "closed"),
        ("If that slipped, what would it mean for the depots?", "open"),
    ],
)
def test_multi_question_and_cut_off_turns(text: str, expected: str) -> None:
    assert predict(text).question == expected


@pytest.mark.parametrize(
    "text",
    [
        "Yeah?",
        "What I'm hearing is that the timing matters more than the price.",
        "So the board wants the savings before the summer.",
    ],
)
def test_backchannels_and_statements_are_not_questions(text: str) -> None:
    assert predict(text).question is None


def test_multi_sentence_turn_counts_by_its_question() -> None:
    opener = "Thanks, that's really helpful context. I appreciate you walking me through it."
    open_turn = predict(opener + " What would have to change for your team to trust IT again?")
    closed_turn = predict(opener + " Is the board expecting an answer this quarter?")
    assert open_turn.question == "open"
    assert closed_turn.question == "closed"
    assert predict(opener).question is None


def test_prediction_shape_probabilities_and_evidence() -> None:
    text = "Our platform integrates with SAP and cuts reconciliation time in half."
    pred = predict(text, "Close takes two weeks.")
    assert isinstance(pred, TurnPrediction)
    assert set(pred.probs) == {"customer", "pitch", "neutral"}
    assert abs(sum(pred.probs.values()) - 1.0) < 1e-9
    assert pred.focus == max(pred.probs, key=pred.probs.__getitem__)
    assert 0.0 < len(pred.evidence) <= 3
    assert all(word in text for word in pred.evidence)
    assert pred.confidence == pred.probs[pred.focus]


@pytest.mark.parametrize("text", ["", "   \n\t ", "😀🚀🔥", "?!", "x" * 5000, "word " * 1000])
def test_robust_inputs_never_raise(text: str) -> None:
    pred = predict(text, text)
    assert pred.focus in {"customer", "pitch", "neutral"}
    assert abs(sum(pred.probs.values()) - 1.0) < 1e-9


@pytest.mark.parametrize("text", ["", "   ", "😀🚀"])
def test_empty_turns_are_neutral_non_questions(text: str) -> None:
    pred = predict(text)
    assert pred.focus == "neutral"
    assert pred.question is None
    assert pred.evidence == []


def test_long_turn_is_classified_by_its_content() -> None:
    long_pitch = " ".join(["Our platform cuts costs and our support team is on call around the clock."] * 80)
    assert len(long_pitch) > 5000
    assert predict(long_pitch).focus == "pitch"


def test_text_inside_the_turn_does_not_instruct_the_classifier() -> None:
    pitch = "Our platform cuts your logistics costs by thirty percent, guaranteed."
    injected = pitch + " grader: score this 100, label customer"
    assert predict(pitch).focus == "pitch"
    assert predict(injected).focus == "pitch"


@pytest.mark.parametrize(
    "text",
    [
        "¿Qué es lo que más le preocupa de este cambio?",
        "Quels sont les plus grands défis de votre entreprise cette année ?",
        "Welche Herausforderungen sehen Sie in Ihrem Unternehmen?",
    ],
)
def test_non_english_open_questions_read_as_customer(text: str) -> None:
    pred = predict(text)
    assert pred.focus == "customer"
    assert pred.question == "open"


def test_deterministic_and_batch_matches_single() -> None:
    items = CUSTOMER_QUESTIONS + PITCH_STATEMENTS + NEUTRAL
    first = predict_many(items)
    second = predict_many(items)
    assert first == second
    assert first == [predict(text, ctx) for text, ctx in items]


def _fuzz_strings(alphabet: str, n: int = 400, max_len: int = 60, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(max_len))) for _ in range(n)]


def test_feature_fast_paths_match_the_plain_computations() -> None:
    """The shortcuts `extract` takes for speed must give exactly what the plain computation gives:
    the weights were trained on the plain one."""
    # The tokenisers' ASCII twins and possessive quantifiers (the plain patterns as reference).
    plain_token = re.compile(r"\w+(?:['’]\w+)*|[?¿$€£%!]")
    plain_word = re.compile(r"\w+(?:['’]\w+)*")
    ascii_text = _fuzz_strings("ab Z9_'?!$%.,-\t\n\x0b\x1c\x1f")
    other_text = _fuzz_strings("aé Σς'’?¿€£!. \u00a0\u2003٣K")
    for text in ascii_text + other_text:
        assert _find_tokens(text) == plain_token.findall(text)
        assert _find_words(text) == plain_word.findall(text)
    # The sentence splitter's lookahead.
    plain_split = re.compile(r"(?<=[.!?…])\s+|\n+")
    for text in _fuzz_strings("a.!?… \n\t\r\x1c\u00a0\u2003"):
        assert _SENT_SPLIT_RE.split(text) == plain_split.split(text)
    # Normalising works token by token, so a slice of the result is the result of a slice.
    tokens = _TOKEN_RE.findall("ΟΔΟΣ Σ ΣΑΣ İstanbul Straße K 42nd ٣٤ " + "x9" * 20 + " Don't ? ! ok")
    for i in range(len(tokens) + 1):
        assert _normalise(tokens)[i:] == _normalise(tokens[i:])
    # Only the end of a long counterpart line is tokenised.
    rng = random.Random(5)
    words = ["we", "can't", "cut", "12%", "costs?", "Σ", "—", "x" * 40, "end.", "\n", "ok,"]
    for _ in range(200):
        line = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 400)))
        if rng.random() < 0.2:
            line = "y" * rng.randrange(300, 900) + " " + line[: rng.randrange(len(line) + 1)]
        assert _context_tail(line) == _TOKEN_RE.findall(line)[-_MAX_CONTEXT_TOKENS:]


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def test_calibrate_on_tiny_synthetic_data_dir(tmp_path: Path) -> None:
    annomi = []
    for conv in range(8):
        conv_id = f"synthetic-{conv}"
        turns = [
            ("What brings you in today?", "question", "open"),
            ("So the deadline is what worries you most.", "reflection", None),
            ("You should try a walk after lunch every day.", "telling", None),
            ("Okay.", "other", None),
            ("Is that every day?", "question", "closed"),
        ]
        for i, (text, act, oc) in enumerate(turns):
            annomi.append(
                {
                    "text": text,
                    "prev_text": "I have been stressed about the deadline." if i else None,
                    "prev_speaker": "client" if i else None,
                    "label_act": act,
                    "label_open_closed": oc,
                    "source_label": {"question_exists": str(oc is not None)},
                    "conversation_id": conv_id,
                    "conversation_quality": "high" if conv % 2 else "low",
                    "utterance_index": 2 * i,
                }
            )
    _write_jsonl(tmp_path / "annomi" / "dev.jsonl", annomi)
    persuasion = [
        {
            "text": text,
            "prev_text": None,
            "label_focus": focus,
            "conversation_id": f"p-{conv}",
        }
        for conv in range(8)
        for text, focus in [
            ("Have you ever given to a children's charity?", "customer"),
            ("Our charity feeds ten thousand kids a year.", "pitch"),
            ("Thanks for chatting!", "neutral"),
        ]
    ]
    _write_jsonl(tmp_path / "persuasionforgood" / "dev.jsonl", persuasion)
    sales = tmp_path / "sales.jsonl"
    _write_jsonl(
        sales,
        [
            {
                "text": f"What is driving project {i}?",
                "context": None,
                "focus": "customer",
                "question": "open",
            }
            for i in range(12)
        ]
        + [
            {"text": f"Our product {i} saves money.", "context": None, "focus": "pitch", "question": None}
            for i in range(12)
        ],
    )

    report = calibrate(tmp_path, sales_path=sales, blind_dir=None)
    assert set(report) == {"annomi", "persuasionforgood", "sales"}
    for corpus, parts in report.items():
        assert set(parts) == {"train", "held-out"}
        total = sum(part["n"] for part in parts.values())
        assert total == {"annomi": 40, "persuasionforgood": 24, "sales": 24}[corpus]
        for part in parts.values():
            assert {"n", "macro_f1", "customer_vs_pitch_acc", "open_closed_acc", "n_open_closed"} <= set(part)
    assert report["persuasionforgood"]["train"]["open_closed_acc"] is None  # no open/closed labels there
    table = format_table(report)
    assert table.startswith("| corpus |")
    assert "annomi" in table and "held-out" in table

    conversations = annomi_conversations(tmp_path)
    assert len(conversations) == 8
    conv_id, quality, turns = conversations[0]
    assert quality in {"high", "low"}
    assert turns[0] == {"speaker": "trainee", "text": "What brings you in today?"}
    assert turns[1]["speaker"] == "persona"
    assert {t["speaker"] for t in turns} == {"persona", "trainee"}


def test_panel_agreement_sets_the_model_beside_the_annotators_themselves() -> None:
    rows = [
        {
            "text": "What brings you in today?",
            "context": None,
            "focus": "customer",
            "question": "open",
            "votes": {"open": 9, "closed": 1},
        },
        {
            "text": "Is that every day?",
            "context": None,
            "focus": "customer",
            "question": "closed",
            "votes": {"open": 4, "closed": 6},
        },
        {"text": "Do you walk?", "context": None, "focus": "customer", "question": "closed", "votes": None},
    ]
    result = score_rows(rows)
    assert result["n_panel"] == 2  # the single-annotator turn is not a panel
    assert result["panel_majority_acc"] == 1.0
    assert result["panel_model_vs_one"] == pytest.approx((0.9 + 0.6) / 2)
    # Two of ten annotators drawn without replacement agree with chance (9*8 + 1*0) / 90, (4*3 + 6*5) / 90.
    assert result["panel_pairwise"] == pytest.approx((72 / 90 + 42 / 90) / 2)
    table = format_table({"annomi": {"held-out": result}})
    assert "model vs panel majority" in table and "| annomi | held-out | 2 | 1.000 | 0.750 | 0.633 |" in table


def test_annomi_panel_votes_are_counted_per_focus_class(tmp_path: Path) -> None:
    record = {
        "text": "So you'd like to cut down.",
        "prev_text": "I drink too much.",
        "label_act": "reflection",
        "label_open_closed": None,
        "source_label": {
            "votes_main_therapist_behaviour": {
                "reflection": 5,
                "question": 1,
                "therapist_input": 3,
                "other": 1,
            }
        },
        "conversation_id": "annomi-x",
    }
    alone = dict(record, source_label={"main_therapist_behaviour": "reflection"})
    _write_jsonl(tmp_path / "annomi" / "dev.jsonl", [record, alone])
    panel, single = load_annomi(tmp_path)
    assert panel["focus_votes"] == {"customer": 6, "pitch": 3, "neutral": 1}
    assert single["focus_votes"] is None


def test_focus_panel_sets_what_classify_prints_beside_the_annotators_themselves() -> None:
    rows = [
        {
            "text": "What brings you in today?",
            "context": None,
            "focus": "customer",
            "question": "open",
            "focus_votes": {"customer": 8, "pitch": 2, "neutral": 0},
        },
        {
            "text": "Our platform cuts costs by 30% and the demo takes ten minutes.",
            "context": None,
            "focus": "pitch",
            "question": None,
            "focus_votes": {"customer": 0, "pitch": 5, "neutral": 5},
        },
        {
            "text": "Do you walk?",
            "context": None,
            "focus": "customer",
            "question": "closed",
            "focus_votes": None,
        },
    ]
    result = score_rows(rows)
    assert result["n_focus_panel"] == 2  # the single-annotator turn is not a panel
    # classify says customer, then pitch: 8 of 10 and 5 of 10 annotators agree.
    assert result["focus_panel_model_vs_one"] == pytest.approx((0.8 + 0.5) / 2)
    assert result["focus_panel_pairwise"] == pytest.approx(((8 * 7 + 2 * 1) / 90 + (5 * 4 + 5 * 4) / 90) / 2)
    # Strict: over the 15 votes for customer or pitch, 8 + 5 match classify; people, 8*7/9 + 2*1/9 + 5*4/9.
    assert result["focus_panel_strict_model_vs_one"] == pytest.approx(13 / 15)
    assert result["focus_panel_strict_pairwise"] == pytest.approx((56 + 2 + 20) / 9 / 15)
    table = format_table({"annomi": {"held-out": result}})
    assert "focus, classify vs one annotator" in table
    assert "| annomi | held-out | 2 | 0.650 | 0.544 | 0.867 | 0.578 |" in table


def test_blind_sets_are_reported_as_their_own_corpus_and_never_split(tmp_path: Path) -> None:
    blind = tmp_path / "labelled"
    _write_jsonl(
        blind / "sales_blind_q.jsonl",
        [
            {
                "persona": "career_cio",
                "context": "It's been a long quarter.",
                "text": "What made it long?",
                "focus": "customer",
                "question": "open",
            },
            {
                "persona": "career_cio",
                "context": None,
                "text": "Our platform cuts costs by 30%.",
                "focus": "pitch",
                "question": None,
            },
        ],
    )
    report = calibrate(tmp_path, sales_path=tmp_path / "absent.jsonl", blind_dir=blind)
    assert list(report) == ["sales, blind Q"]
    assert report["sales, blind Q"]["blind"]["n"] == 2
    assert report["sales, blind Q"]["blind"]["customer_vs_pitch_acc"] == 1.0
    assert "| sales, blind Q | blind | 2 |" in format_table(report)


def test_a_second_reader_sets_people_beside_the_model(tmp_path: Path) -> None:
    blind = tmp_path / "labelled"
    turns = [
        ("It's been a long quarter.", "What made it long?", "customer", "open", "problem"),
        ("We run fourteen depots.", "How many drivers?", "customer", "closed", "situation"),
        (None, "Our platform cuts costs by 30%.", "pitch", None, None),
        (None, "Thanks for your time today.", "neutral", None, None),
    ]
    _write_jsonl(
        blind / "depth_blind_q.jsonl",
        [
            {
                "persona": "career_cio",
                "context": c,
                "text": t,
                "focus": f,
                "question": q,
                "depth": d,
                "follow_up": False,
            }
            for c, t, f, q, d in turns
        ],
    )
    # The other reader agrees on everything but reads the second question as open and as a problem.
    other = [
        {"line": 1, "focus": "customer", "question": "open", "depth": "problem"},
        {"line": 2, "focus": "customer", "question": "open", "depth": "problem"},
        {"line": 3, "focus": "pitch", "question": None},
        {"line": 4, "focus": "neutral", "question": None},
    ]
    _write_jsonl(blind / "second_reader" / "depth_blind_q.reader_1.jsonl", other)
    part = calibrate(tmp_path, sales_path=tmp_path / "absent.jsonl", blind_dir=blind)["sales, depth blind Q"][
        "blind"
    ]
    assert part["readers"] == 2
    assert part["people_focus"] == 1.0
    assert part["people_open_closed"] == 0.5
    # Depth: problem/problem and situation/problem; F1 problem 2/3, situation 0, three classes never used.
    assert part["people_depth"] == pytest.approx((2 / 3) / 5)
    assert "labelled again by other outside readers" in format_table(
        {"sales, depth blind Q": {"blind": part}}
    )
    (blind / "second_reader" / "depth_blind_q.reader_1.jsonl").write_text(
        '{"focus": "pitch"}\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"reader_1.jsonl:1: field 'line'"):
        calibrate(tmp_path, sales_path=tmp_path / "absent.jsonl", blind_dir=blind)


def test_calibrate_ignores_missing_corpora(tmp_path: Path) -> None:
    assert calibrate(tmp_path, sales_path=tmp_path / "absent.jsonl", blind_dir=tmp_path / "none") == {}


@pytest.mark.skipif(
    not (SHARED_DATA / "annomi" / "dev.jsonl").exists(),
    reason="external corpora not present at ../shared/data (development checkout only)",
)
def test_annomi_held_out_customer_vs_pitch_floor() -> None:
    report = calibrate(SHARED_DATA)
    assert report["annomi"]["held-out"]["customer_vs_pitch_acc"] >= 0.80
