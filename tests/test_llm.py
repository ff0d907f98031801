"""The model seam over real HTTP: streaming, structured output, retries a user can rely on, no leaked keys."""

from __future__ import annotations

import json
import time

import pytest

from tests.fake_openai_server import FakeOpenAI, Fault
from tests.fakes import ScriptedChatModel
from trainer.grader.assess import assess_turn
from trainer.grader.judge import JudgeVerdict, judged, llm_assess
from trainer.llm.cassettes import Cassette, CassetteLibrary, RecordingChatModel, ReplayChatModel
from trainer.llm.config import chat_model, resolve
from trainer.llm.openai_client import OpenAIChatModel, RetryPolicy
from trainer.llm.seam import ModelUnavailable, ReplayMiss, Request

SECRET = "sk-test-SECRET-0123456789"
FAST = RetryPolicy(attempts=4, initial=0.01, maximum=0.05, jitter=0.01)
HELLO = [{"role": "system", "content": 'Something like: "Hello there, let us begin."'}]


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


def model(server: FakeOpenAI, **kwargs) -> OpenAIChatModel:
    return OpenAIChatModel(server.base_url, SECRET, timeout=kwargs.pop("timeout", 2.0), retry=FAST, **kwargs)


def test_streams_tokens_in_order_and_counts_usage(server):
    tokens: list[str] = []
    reply = model(server).complete(Request(HELLO, model="m", temperature=0.3), stream_cb=tokens.append)
    assert len(tokens) > 3 and "".join(tokens) == reply.text == "Hello there, let us begin."
    assert reply.usage.calls == 1 and reply.usage.completion_tokens > 0 and not reply.usage.estimated
    sent = server.requests()[0]
    assert sent["stream"] is True and sent["temperature"] == 0.3 and sent["max_tokens"] == 200


def test_usage_is_estimated_and_flagged_when_the_stream_reports_none(server):
    server.usage_in_stream = False
    reply = model(server).complete(Request(HELLO, model="m", temperature=0.3), stream_cb=lambda _: None)
    assert reply.usage.estimated and reply.usage.prompt_tokens > 0


def test_a_stream_cut_mid_reply_is_retried_and_the_listener_hears_each_word_once(server):
    server.fail(Fault(cut_after=2))
    tokens: list[str] = []
    reply = model(server).complete(Request(HELLO, model="m", temperature=0.3), stream_cb=tokens.append)
    assert len(server.log) == 2  # the broken stream was not taken for a short reply
    assert reply.text == "".join(tokens) == "Hello there, let us begin."


def test_a_retry_that_words_the_reply_differently_stops_the_stream_and_keeps_the_new_reply():
    replies = iter(["Hello there, let us begin.", "Hi, shall we start?"])
    with FakeOpenAI(reply=lambda body: next(replies)) as fake:
        fake.fail(Fault(cut_after=2))
        tokens: list[str] = []
        reply = model(fake).complete(Request(HELLO, model="m", temperature=0.7), stream_cb=tokens.append)
    assert reply.text == "Hi, shall we start?"
    assert "".join(tokens) == "Hello there, "  # nothing of the second wording is spliced onto the first


def test_a_stream_that_keeps_breaking_off_gives_up_with_one_sentence(server):
    server.fail(*[Fault(cut_after=1)] * 4)
    with pytest.raises(ModelUnavailable) as caught:
        model(server).complete(Request(HELLO, model="m", temperature=0.3), stream_cb=lambda _: None)
    assert "after 4 attempts (the reply stream broke off)" in str(caught.value)
    assert "send the same turn again" in str(caught.value)


def test_429_500_and_a_timeout_are_retried_and_retry_after_is_honoured(server):
    server.fail(Fault(status=429, retry_after="0.4"), Fault(status=500), Fault(delay=1.5))
    started = time.monotonic()
    reply = model(server, timeout=0.5).complete(Request(HELLO, model="m", temperature=0))
    assert reply.text == "Hello there, let us begin."
    assert len(server.log) == 4  # three failures, then the answer: no more
    gap = server.log[1]["at"] - server.log[0]["at"]
    assert gap >= 0.4  # waited as long as the server asked, not the 10 ms backoff
    assert time.monotonic() - started < 5


def test_exhausted_retries_give_one_clear_sentence_and_stop_at_the_configured_attempts(server):
    server.fail(*[Fault(status=503)] * 6)
    with pytest.raises(ModelUnavailable) as caught:
        model(server).complete(Request(HELLO, model="m", temperature=0, label="persona turn 2"))
    message = str(caught.value)
    assert len(server.log) == 4
    assert "did not answer after 4 attempts (HTTP 503)" in message
    assert "send the same turn again" in message and ". " not in message and "\n" not in message


def test_a_request_the_server_refuses_is_not_retried_and_never_shows_the_key(server):
    server.fail(Fault(status=401))
    with pytest.raises(ModelUnavailable) as caught:
        model(server).complete(Request(HELLO, model="m", temperature=0))
    assert len(server.log) == 1
    assert "401" in str(caught.value) and "OPENAI_API_KEY" in str(caught.value)
    assert SECRET not in str(caught.value)
    sent = {k.lower(): v for k, v in server.log[0]["headers"].items()}
    assert sent["authorization"] == f"Bearer {SECRET}"  # the key did go to the server, and only there


def budgeted(server: FakeOpenAI, tmp_path, budget: float) -> OpenAIChatModel:
    """The model as the app builds it from a config file that sets `turn_budget` (timeout left at 60 s)."""
    path = tmp_path / "trainer.toml"
    path.write_text(f'[llm]\nbase_url = "{server.base_url}"\nturn_budget = {budget}\n', encoding="utf-8")
    built = chat_model(resolve(config_path=path, env={"OPENAI_API_KEY": SECRET}))
    assert isinstance(built, OpenAIChatModel)
    return built


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_a_server_that_never_answers_gives_up_within_the_turn_budget(server, tmp_path, streamed):
    server.fail(*[Fault(hang=True)] * 10)
    listener = (lambda _: None) if streamed else None
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        budgeted(server, tmp_path, 1.0).complete(Request(HELLO, model="m", temperature=0), stream_cb=listener)
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 1.0 + 0.75  # the budget, not 4 x 60 s of timeouts and backoff
    message = str(caught.value)
    assert "did not answer within 1 s" in message and "timed out" in message
    assert "send the same turn again" in message and SECRET not in message


def test_a_retry_after_longer_than_the_turn_budget_gives_up_at_once(server, tmp_path):
    server.fail(Fault(status=429, retry_after="30"), Fault(status=429, retry_after="30"))
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match=r"within 2 s \(rate limited \(429\), 1 attempt\)"):
        budgeted(server, tmp_path, 2.0).complete(Request(HELLO, model="m", temperature=0))
    assert time.monotonic() - started < 1.0 and len(server.log) == 1  # no 30 s sleep past the budget


HTML = "<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body>It works.</body></html>"
IS_HTML = "answered with HTML, not JSON, so nothing was changed: is the base URL right (…/v1)?"
NOT_JSON = "answered, but its reply was not valid JSON; nothing was changed"


@pytest.mark.parametrize(
    ("body", "content_type", "streamed", "words"),
    [
        (HTML, "text/html; charset=utf-8", False, IS_HTML),
        (HTML, "text/html; charset=utf-8", True, IS_HTML),
        (HTML, "application/json", False, IS_HTML),  # a page sent under the wrong content-type
        ('{"id": "chatcmpl-1", "choices": [{"message": ', "application/json", False, NOT_JSON),
        ('{"id": "chatcmpl-1", "choices": [{"message": ', "application/json", True, NOT_JSON),
        ('data: {"id": "chatcmpl-1", "choices": [{"delta": \n\n', "text/event-stream", True, NOT_JSON),
    ],
    ids=["html", "html-streamed", "html-as-json", "broken-json", "broken-json-streamed", "broken-event"],
)
def test_a_200_that_is_not_a_reply_says_what_the_server_sent(server, body, content_type, streamed, words):
    server.fail(Fault(body=body, content_type=content_type))
    listener = (lambda _: None) if streamed else None
    with pytest.raises(ModelUnavailable) as caught:
        model(server).complete(Request(HELLO, model="m", temperature=0), stream_cb=listener)
    message = str(caught.value)
    assert words in message and message.startswith(f"The model server at {server.base_url.split('/')[2]} ")
    assert "Error" not in message and SECRET not in message  # no "(AttributeError)", no key
    assert len(server.log) == 1  # a wrong address or a broken server is not retried


def test_json_that_is_not_a_chat_completion_is_named_as_such(server):
    server.fail(Fault(body='{"status": "ok"}'))
    with pytest.raises(ModelUnavailable, match="not a chat completion"):
        model(server).complete(Request(HELLO, model="m", temperature=0))


def test_structured_output_parses_and_falls_back_to_json_object_mode(server):
    verdict = llm_assess("What keeps you up at night?", "Long week.", model(server), "judge-m")
    assert verdict is not None and verdict["focus"] == "customer" and verdict["question"] == "open"
    assert server.requests()[0]["response_format"]["type"] == "json_schema"

    server.fail(Fault(status=422))  # llama.cpp's server rejects json_schema: ask in json_object mode instead
    chat = model(server)
    assert llm_assess("Our demo is great, shall I book it?", None, chat, "judge-m")["focus"] == "pitch"
    again = server.requests()[-1]["response_format"]
    assert again["type"] == "json_object" and again["schema"]["properties"]["focus"]
    llm_assess("And your team?", None, chat, "judge-m")
    assert server.requests()[-1]["response_format"]["type"] == "json_object"


def test_an_unparseable_verdict_leaves_the_offline_label_flagged_unscored():
    fake = ScriptedChatModel(["I think this is a customer-focused turn.", '{"focus": "sideways"}'])
    offline = assess_turn("Our platform cuts costs by 30%.", 1)
    for _ in range(2):
        verdict = llm_assess(offline.text, None, fake, "m")
        assert verdict is None
        relabelled = judged(offline, verdict)
        assert relabelled.unscored and relabelled.judge == "offline" and relabelled.focus == offline.focus
    fake.assert_used_up()


# A well-formed judge verdict for a customer-focused problem question.
GOOD_VERDICT = json.dumps(
    {
        "focus": "customer",
        "question": "open",
        "spin": "problem",
        "depth": "problem",
        "follow_up": False,
        "evidence": "what worries",
    }
)


def test_a_parsed_verdict_relabels_the_turn():
    reply = GOOD_VERDICT
    verdict = llm_assess("What worries you most?", None, ScriptedChatModel([reply]), "m")
    relabelled = judged(assess_turn("What worries you most?", 1), verdict)
    assert (relabelled.focus, relabelled.question, relabelled.spin) == ("customer", "open", "problem")
    assert relabelled.judge == "llm:m" and not relabelled.unscored and relabelled.move == "open_question"
    assert JudgeVerdict.model_json_schema()["additionalProperties"] is False


def test_scripted_fake_fails_when_its_script_is_not_used_up_or_runs_out():
    fake = ScriptedChatModel(["one", "two"])
    assert fake.complete(Request(HELLO, model="m", temperature=0)).text == "one"
    with pytest.raises(AssertionError, match="1 scripted"):
        fake.assert_used_up()
    fake.complete(Request(HELLO, model="m", temperature=0))
    with pytest.raises(AssertionError, match="no reply left for persona turn 9"):
        fake.complete(Request(HELLO, model="m", temperature=0, label="persona turn 9"))


def test_record_then_replay_serves_the_same_reply_without_a_server(tmp_path, server):
    path = tmp_path / "suite" / "case.jsonl"
    recorder = RecordingChatModel(model(server), Cassette(path), case="suite/case")
    first = recorder.complete(Request(HELLO, model="m", temperature=0.2, label="persona turn 1"))
    record = json.loads(path.read_text().splitlines()[0])
    assert record["label"] == "persona turn 1" and record["request"]["messages"] == HELLO
    assert SECRET not in path.read_text() and "Authorization" not in path.read_text()

    replay = ReplayChatModel(CassetteLibrary(tmp_path), case="suite/case")
    tokens: list[str] = []
    again = replay.complete(Request(HELLO, model="m", temperature=0.2), stream_cb=tokens.append)
    assert again.text == first.text == "".join(tokens)
    assert len(server.log) == 1


def test_replay_miss_names_the_case_the_call_and_what_changed(tmp_path):
    recorder = RecordingChatModel(
        ScriptedChatModel(["Fine."]), Cassette(tmp_path / "s" / "c.jsonl"), case="s/c"
    )
    recorder.complete(
        Request(
            [{"role": "system", "content": "You are Renata. Be brisk."}],
            model="m",
            temperature=0,
            label="persona turn 3",
        )
    )
    replay = ReplayChatModel(CassetteLibrary(tmp_path), case="s/c", hint="Re-record.")
    with pytest.raises(ReplayMiss) as caught:
        replay.complete(
            Request(
                [{"role": "system", "content": "You are Renata. Be warm."}],
                model="m",
                temperature=0,
                label="persona turn 3",
            )
        )
    message = str(caught.value)
    assert message.startswith("replay: no recording for case 's/c', persona turn 3")
    assert (
        "messages[0] (system) at character 19" in message and "Be brisk." in message and "Be warm." in message
    )
    with pytest.raises(ReplayMiss, match=r"temperature: recorded 0 vs now 0\.5"):
        replay.complete(
            Request(
                [{"role": "system", "content": "You are Renata. Be brisk."}],
                model="m",
                temperature=0.5,
                label="persona turn 3",
            )
        )


def test_grade_with_the_llm_judge_flags_an_unparseable_turn_and_keeps_its_offline_label():
    from trainer.grader.scorecard import grade_transcript
    from trainer.schema import Transcript, Turn

    good = GOOD_VERDICT
    fake = ScriptedChatModel([good, "Sure! This turn is a pitch, I would say."])
    transcript = Transcript(
        turns=[
            Turn(speaker="persona", text="We start the rollout next month."),
            Turn(speaker="trainee", text="What worries you most about it?"),
            Turn(speaker="persona", text="The drivers."),
            Turn(speaker="trainee", text="Our app cuts training time in half, can I show you a demo?"),
        ]
    )

    def relabel(assessment, context, label):
        return judged(assessment, llm_assess(assessment.text, context, fake, "m", label=label))

    card = grade_transcript(transcript, relabel=relabel)
    fake.assert_used_up()
    first, second = card.turns
    assert (first["judge"], first["unscored"], first["spin"]) == ("llm:m", False, "problem")
    assert (second["judge"], second["unscored"], second["focus"]) == ("offline", True, "pitch")
    assert "The drivers." in fake.requests[1]["messages"][-1]["content"]
