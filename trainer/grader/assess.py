"""One trainee turn -> one Assessment: the single judgement that moves the persona and feeds the scorecard.

Focus and question type come from the offline turn classifier (`classifier.predict`); this module adds
what the persona reacts to: the move, the topics touched (the catalog's `rubrics/topics.yaml`), SPIN type
and whether the turn builds on their words. Another judge (the LLM judge) relabels the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from trainer.grader.classifier import predict
from trainer.grader.depth import predict_depth
from trainer.rubrics import Rubrics, builtin_rubrics
from trainer.text import Phrases, content_words, question_sentence, sentences
from trainer.turns import Assessment, Focus, Move, QuestionKind, Spin, Turn

_GOODBYE = Phrases(
    "goodbye", "bye", "talk soon", "i'll let you go", "let you get to", "have a good", "speak soon",
    "thanks for your time", "thank you for your time", "that's all from me", "see you",
)  # fmt: skip
# "Good to see you again" opens a meeting, and "I'll let you go well before eleven" promises to keep it
# short: neither is a goodbye.
_NOT_GOODBYE = re.compile(
    r"\b(?:good|nice|great|lovely|glad|pleased) to (?:see|meet) you(?: again)?\b|"
    r"\blet you go (?:well |long )?(?:before|by|in time|on time)\b"
)
_NEXT_STEP = Phrases(
    "meet again", "follow-up", "follow up", "next step", "another conversation", "set up a time",
    "find a time", "grab a coffee", "grab coffee", "over coffee", "dinner", "lunch", "1:1", "one-on-one",
    "one on one", "continue this", "continue the conversation", "schedule", "next week", "pick this up",
    "talk again", "second meeting", "sit down", "get together", "worth a conversation", "book some time",
)  # fmt: skip
# A proposal to spend time together ("Could we take thirty minutes next week...?", "Would you give me a
# working session on your figures?"): a next step however the classifier reads its "we" and "I".
_PROPOSAL = re.compile(
    r"\b(?:would it (?:help|be useful|be worth it|make sense) if|would you (?:be open to|give me|like to)|"
    r"(?:could|can|shall|should) (?:we|i|you and i)|how about|what if we|why don't we|let's|let us|maybe we|"
    r"(?:i'd|i would|let me) (?:like to )?(?:suggest|propose|offer)|here's what i'd (?:suggest|want|propose)|"
    r"proposed next step|what if,? (?:by \w+,? )?(?:i|we)|let me and my|(?:here's |here is )?my proposal)\b"
)
# "Half an hour on Thursday?" proposes; "Twenty minutes. Straight question:" only notes the time.
_DURATION_ASKED = re.compile(
    r"^(?:(?:and|so|then) )?(?:half an hour|an hour|"
    r"(?:ten|fifteen|twenty|thirty|forty-five|sixty|ninety|\d+) minutes)\b[^.!]*\?"
)
_TIME_TOGETHER = re.compile(
    r"\b(?:working session|session|workshop|half an hour|half-an-hour|half-day|half a day|an hour|"
    r"(?:a|two|a couple of) hours|"
    r"(?:ten|fifteen|twenty|thirty|forty|forty-five|sixty|ninety|\d+)[- ]minutes?|"
    r"(?:come|came|coming) back|sit down|sat down|sit with|walk through|go through|went through|"
    r"work through|worked through|walking through|going through|rehearse|together|half hour|next week|"
    r"this week|after (?:your|the|today's) "
    r"(?:review|kickoff|meeting|call)|a working day|a morning|an afternoon|tomorrow|"
    r"(?:on|by|this|next|before) (?:monday|tuesday|wednesday|thursday|friday))\b"
)
# Asking leave to ask ("Can I ask you something off the programme?"): manners, not yet a question about
# them, and not a pitch; the question that follows is judged on its own.
_PERMISSION = re.compile(
    r"^(?:\w+ )?(?:can|could|may|might) i ask (?:you )?(?:something|a question|one thing|a quick question|a "
    r"personal question)\b|^(?:\w+ )?(?:a )?quick question\b"
)
_THEN_ASKS = re.compile(r"(?:[:—–]|\s-{1,2}\s)\s*\w")


def _asks_leave_only(asked: str) -> bool:
    """ "Can I ask you something?" asks leave; "Can I ask you something: who signs?" asks (21 labelled turns
    are like the second, every one customer-focused)."""
    leave = _PERMISSION.search(asked)
    return leave is not None and _THEN_ASKS.search(asked, leave.end()) is None


# Whose ground this is, or what both sides serve: more than "fair enough", so it counts after a greeting too.
_SHARED_GROUND = re.compile(
    r"\b(?:you're the (?:client|customer|boss)|we both (?:work|answer|serve|report) (?:for|to)|"
    r"we're both here to|same side of the table)\b"
)
# Granting the client their ground ("Fair enough, you're the client.") is manners, not a pitch, even
# when it goes on to say what both sides answer to; "you're the boss, whatever you need" still sells.
_DEFERS = re.compile(r"\b(?:you're right|fair enough|fair point|hear you)\b|" + _SHARED_GROUND.pattern)
# "Let me tell you a quick story": the rep is about to tell, so the turn is about us, not them.
_ABOUT_TO_TELL = re.compile(r"\blet me (?:tell you|share|walk you through|explain|give you)\b")
# "Before I say a word about us, how does a season get planned here?": the rep sets the pitch aside.
_NOT_ABOUT_US = re.compile(
    r"\bbefore i (?:say|talk|tell you) (?:a word|anything|much) about us\b|\b(?:not|rather than) "
    r"(?:about|talk about|talking about) us\b|\bnot (?:here )?to (?:pitch|sell)\b|\bno pitch\b|"
    r"\brather than (?:for )?(?:our|my) (?:sales process|pipeline|quota|agenda)\b|\bnot a sales step\b"
)
# "Say a little more about what the board is watching for.": asking them to go on is about them.
_SAY_MORE = re.compile(
    r"\b(?:say|tell me|talk me through) (?:a (?:little|bit) )?more\b|\b(?:go on|keep going|say more)[.?!]"
)
_YOU = re.compile(r"\byou(?:r|'re|'ve)?\b")
_OURS = re.compile(r"\bour\b")  # "would it help if our squad took over...?" offers us, not time together
_PRODUCT = Phrases(
    "demo", "our platform", "our product", "our solution", "our service", "our tool", "pricing", "discount",
    # whole words only: "contract" starts "contractors" and "sign" starts "significant"; a trial of ours,
    # not "trial ventures"
    "contract ", "contract.", "contract,", "contract?", "contracts", "sign ", "signed", "signing",
    "free trial", "trial period", "trial licen", "trial account", "pilot with us", "feature", "licen",
    # "a proposal" is paper we send; "Then my proposal: you and I rebuild the plan" proposes time together
    "quote", "a proposal", "the proposal", "our proposal", "proposal for", "purchase",
)  # fmt: skip
# "Would it help to see every store's forecast in one place?" asks whether they want something we sell,
# not what they want: a pitch phrased as a question. Both halves must be in the question sentence.
_WOULD_YOU_WANT = re.compile(
    r"\b(?:would|could|might|will) (?:it|that|this|something like that) (?:help|make (?:a )?difference|"
    r"be (?:useful|helpful|valuable|interesting|worth\b|of (?:use|interest)))"
    r"|\bwould (?:you|your \w+|they) (?:use|want|like|prefer|be open to|consider|try|trust|value|welcome|"
    r"go for|be interested|find it)\b"
    r"|\bif you (?:could|had|were able to)\b.*\bwould\b|\bwhat if you (?:had|could)\b"
    r"|\bimagine (?:having|if|you had)\b|\bhow would you feel about\b"
    r"|\bwhat would (?:you|your \w+) say (?:if|to)\b"
    r"|\bis (?:this|that) (?:interesting|useful|something you)\b"
    r"|\b(?:you|your \w+|they) would (?:use|want|trust|like|value|prefer)\b|\bif (?:a|an|our|we)\b.*\bwould\b"
)
# "If you could see each store's sales week by week, would that help?": a capability held out for a yes,
# whatever it is called ("If you could change one thing, what would it be?" asks what they want).
_IF_YOU_COULD = re.compile(
    r"\bif (?:you|your \w+) (?:could|had|were able to|paid|switched|moved|used|bought|tried)\b[^?]*?"
    r"(?<!what )(?<!how )\bwould (?:that|this|it|the \w+|they)\b"
)
_CAPABILITY = re.compile(
    r"\b(?:our service|forecasts?|forecasting|weather (?:model|data)|tool|apps?|application|platform|"
    r"software|system|dashboard|automat\w*|solution|feature|module|"
    r"(?:a|small|short|as a|free) (?:pilot|trial)|subscription|one place|same tool|real[- ]time|algorithm|"
    r"squads?|integration|scanners?|analytics|"
    r"alerts?|mobile app|digital tool)\b"
)
_INSIGHT = Phrases(
    "i've been researching", "i have been researching", "i've been looking into", "i've been studying",
    "i've been struggling", "been wrestling", "one of your peers", "a peer of yours", "another company",
    "other companies", "others in your industry", "what we've seen across", "what i've seen across",
    "a lesson", "the lesson", "learned the hard way", "i've seen", "i keep seeing", "a pattern",
    "a cio i know", "an executive i", "a coo i", "a client of mine learned", "in my old trade",
    "in my old job", "in my last job", "in my last role", "in my previous role", "other side of the desk",
    "when i was a buyer", "when i was buying",
)  # fmt: skip
# A peer's story told as one ("a Dutch water company I studied stopped most of its experiments..."),
# beside the phrases above: the lesson counts as an insight even when a question about them follows.
_PEER_STORY = re.compile(
    r"\b(?:i have been|i've been|i was) (?:studying|researching|looking into|reading about)\b|"
    r"\b(?:i|i've|i have) (?:studied|researched)\b|\bin my research\b|"
    r"\b(?:a|one|another) (?:\w+ ){0,3}(?:company|utility|firm|retailer|brand|bank|insurer|operator|carrier|"
    r"cio|ceo|cfo|coo) (?:i|we) (?:studied|know|knew|looked at|spoke to|talked to|met)\b"
)
# Promises of compliance ("whatever you need, we'll make it happen"): the rep selling our willingness,
# which the persona must hear as a pitch. The training turns hold almost none of them, and since the
# speech-act turns taught the model that short friendly lines are neutral, it reads these as small talk.
_PROMISE = Phrases(
    "whatever you need", "at your service", "you're the boss", "consider it done", "anything you need",
    "we'll make it happen", "we will make it happen", "we'll deliver", "we will deliver", "we'll get it done",
    "we'll do whatever", "we can make it happen", "we've got you covered",
)  # fmt: skip
# Offering to send commercial paper ("Shall I send over the change request for the extra scope?"):
# a push for the sale, although offers to send notes or contacts are neutral logistics.
_SEND_OFFER = re.compile(
    r"\b(?:can i|could i|may i|shall i|should i|want me to|would you like me to|i'll|i can) (?:\w+ ){0,2}"
    r"(?:send|share|forward|bring|email|put together|draft)\b"
)
_COMMERCIAL = Phrases(
    "change request", "scope", "proposal", "quote", "pricing", "price list", "comparison", "contract ",
    "contract.", "contract,", "contract?", "contracts",
    "order form", "upgrade", "extended", "renewal", "case stud", "brochure", "statement of work",
    "licen", "discount",
)  # fmt: skip
# A summary checked back ("So: cost first, delivery second. Have I got that right?"): a reflection, though
# it ends in a yes/no question.
_CHECK_BACK = Phrases(
    "is that right", "is that fair", "is that a fair", "is that about right", "have i got that",
    "have i got it", "did i get that", "have i understood", "am i missing", "have i missed",
    "does that sound right", "am i close", "did i hear that right", "fair summary", "is that accurate",
    "correct?", "is that correct",
)  # fmt: skip
_SPIN: tuple[tuple[Spin, Phrases], ...] = (
    ("need_payoff", Phrases(
        "would it help", "would that help", "how would it", "what would it mean", "what would that mean",
        "if you could", "if you had", "value", "benefit", "what would change", "how would that",
        "what would success", "what would it look like", "what would be different", "ideal", "so you can",
        "so that you", "what would it do for", "what would that do for", "useful",
    )),
    ("implication", Phrases(
        "impact", "affect", "effect", "consequence", "what happens if", "what happens when", "cost you",
        "mean for", "lead to", "knock-on", "ripple", "what does that do", "how does that play",
        "what would happen", "at stake", "result in",
    )),
    ("problem", Phrases(
        "problem", "challenge", "difficult", "worr", "concern", "struggl", "frustrat", "hard", "pain",
        "dissatisf", "keep you up", "go wrong", "went wrong", "issue", "obstacle", "risk", "tough",
        "bother", "pressure",
    )),
)  # fmt: skip


def move_of(text: str, focus: Focus, question: QuestionKind | None) -> Move:
    """What the persona hears from a turn with these labels, checked most specific first (any judge)."""
    low = text.lower()
    product = bool(_PRODUCT.search(low))
    if _GOODBYE.search(_NOT_GOODBYE.sub("", low)) and not question:
        return "goodbye"
    proposes = _proposes_time(low) and not _OURS.search(low)
    if (_NEXT_STEP.search(low) or proposes) and not product and question is not None:
        return "next_step"
    if (_INSIGHT.search(low) or _PEER_STORY.search(low)) and not product and focus != "customer":
        return "insight"
    if focus == "pitch":
        return "pitch"
    if focus == "customer":
        if question == "closed" and _checks_back(text):
            return "reflection"
        if question == "open":
            return "open_question"
        if question == "closed":
            return "closed_question"
        return "reflection"
    return "off_topic"


def _checks_back(text: str) -> bool:
    """A statement about them, then a check that it is right."""
    if not _CHECK_BACK.search(text.lower()):  # the common case, without splitting the turn into sentences
        return False
    asked = question_sentence(text)
    if not asked or (len(sentences(text)) < 2 and ":" not in asked):
        return False
    return _CHECK_BACK.search(asked.lower())


def _proposes_time(low: str) -> bool:
    """A sentence that proposes, then names time together ("Could we take thirty minutes next week?");
    not "Good session. Can I ask you something?", whose time word comes before the proposal."""
    if not _TIME_TOGETHER.search(low):  # the common case, without splitting the turn into sentences
        return False
    for sentence in sentences(low):
        if _DURATION_ASKED.match(sentence):
            return True
        opener = _PROPOSAL.search(sentence)
        if opener and _TIME_TOGETHER.search(sentence, opener.start()):
            return True
    return False


def _asks_if_they_want_ours(asked: str, low: str) -> bool:
    """A question offering something we sell; proposing time together ("would it help to spend an hour
    next week on your forecast?") is not."""
    if not (_WOULD_YOU_WANT.search(asked) and _CAPABILITY.search(asked)) and not _IF_YOU_COULD.search(asked):
        return False
    return not (_TIME_TOGETHER.search(asked) or _proposes_time(low))


def _spin(question_text: str, focus: Focus, question: QuestionKind | None) -> Spin | None:
    if focus != "customer" or question is None:
        return None
    low = question_text.lower()
    for kind, pattern in _SPIN:
        if pattern.search(low):
            return kind
    return "situation"


def _persona_words(earlier: Sequence[Turn]) -> set[str]:
    """Every content word the persona has said in these turns."""
    theirs: set[str] = set()
    for turn in earlier:
        if turn.speaker == "persona":
            theirs |= content_words(turn.text)
    return theirs


def _last_persona_line(earlier: Sequence[Turn]) -> str | None:
    return next((t.text for t in reversed(earlier) if t.speaker == "persona"), None)


def assess_turn(
    text: str,
    index: int,
    earlier: Sequence[Turn] = (),
    rubrics: Rubrics | None = None,
    ours: Sequence[str] = (),
) -> Assessment:
    """Judge one trainee turn given the conversation before it, with the catalog's topics; `ours`: the
    scenario's names for what the rep sells (a question naming it asks about us)."""
    return _assess(text, index, _last_persona_line(earlier), _persona_words(earlier), rubrics, ours)


def assess_after(text: str, context: str | None, rubrics: Rubrics | None = None) -> Assessment:
    """One turn after the persona's line `context` (or at the start): `assess_turn` after that one persona
    turn, without making Turn models (`trainer classify` judges each of its lines so)."""
    if not context:
        return _assess(text, 0, None, set(), rubrics)
    return _assess(text, 1, context, content_words(context), rubrics)


def _assess(
    text: str,
    index: int,
    context: str | None,
    theirs: set[str],
    rubrics: Rubrics | None,
    ours: Sequence[str] = (),
) -> Assessment:
    """The judgement itself, given the persona's last line (`context`) and every word they said so far.

    Made with `model_construct`: every value comes from the grader's own label sets, and validating them
    would first build Assessment's schema, some 13 ms that `trainer classify` would pay for nothing."""
    label = predict(text, context)
    question: QuestionKind | None = label.question  # type: ignore[assignment]
    focus: Focus = label.focus  # type: ignore[assignment]
    rubrics = rubrics or builtin_rubrics()
    low = text.lower()
    if focus == "neutral":
        if question is None and _PROMISE.search(low):
            focus = "pitch"  # promising to do whatever they ask sells us; it is not small talk
        elif _COMMERCIAL.search(low) and _SEND_OFFER.search(low):
            focus = "pitch"  # offering to send the quote or more scope pushes the sale
    names_us = _names_us(text, ours)
    ours_named = names_us or _PRODUCT.search(low)
    if focus == "customer" and names_us:
        focus = "pitch"  # "Which budget line would the RouteLedger licence come from?" asks about us
    elif focus == "pitch" and not ours_named and _YOU.search(low) and _checks_back(text):
        focus = "customer"  # their situation played back to them and checked: no pitch
    asked = question_sentence(text)
    if focus == "pitch" and not ours_named and asked and _YOU.search(low) and _NOT_ABOUT_US.search(low):
        focus = "customer"  # the pitch set aside, a question about them
    if focus != "customer" and not ours_named and _SAY_MORE.search(low) and not _PROMISE.search(low):
        focus = "customer"
        question = question or "open"
    if focus == "customer" and asked and _asks_if_they_want_ours(asked.lower(), low):
        focus = "pitch"
    if asked and _asks_leave_only(asked.lower()) and sum(ch == "?" for ch in text) == 1:
        focus, question = "neutral", None
    if focus == "customer" and question is None and _ABOUT_TO_TELL.search(low):
        focus = "neutral"  # announcing a story or an explanation asks and reflects nothing yet
    if focus == "customer" and rubrics.is_out_of_role(text):
        focus = "neutral"  # talking to the simulation, not the executive: it earns and opens nothing
    if (
        focus != "customer"
        and question is None
        and not ours_named
        and (_DEFERS if focus == "pitch" else _SHARED_GROUND).search(low)
        and not _PROMISE.search(low)
    ):
        focus = "customer"  # their position granted back to them, even after a greeting: a reflection
    move = move_of(text, focus, question)
    if move == "insight" and names_us:
        move = focus = "pitch"  # a case study of what we sell is a pitch, not a peer's lesson
    elif move == "insight" and focus == "pitch":
        focus = "neutral"  # a peer's lesson is telling, but not about us
    insight = move == "insight" or (
        focus == "customer" and not ours_named and bool(_INSIGHT.search(low) or _PEER_STORY.search(low))
    )
    probe = predict_depth(text, context, label.features) if focus == "customer" and label.features else None
    picked_up = sorted(content_words(text) & theirs)  # the persona's own words it picks up
    evidence = list(label.evidence)
    if picked_up:
        evidence.append("picks up: " + ", ".join(picked_up[:3]))
    return Assessment.model_construct(
        turn=index,
        text=text,
        focus=focus,
        question=question,
        spin=_spin(asked or text, focus, question),
        builds_on=bool(picked_up) and focus == "customer",
        topics=rubrics.topics_in(text),
        move=move,
        evidence=evidence,
        confidence=round(label.confidence, 3),
        depth=probe.depth if probe else None,  # type: ignore[arg-type]
        follow_up=bool(probe and probe.follow_up),
        shares_insight=insight,
    )


def _names_us(text: str, ours: Sequence[str]) -> bool:
    return any(re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE) for name in ours)


Relabel = Callable[[Assessment, str | None, str], Assessment]


def assess_transcript(
    turns: Sequence[Turn],
    relabel: Relabel | None = None,
    rubrics: Rubrics | None = None,
    ours: Sequence[str] = (),
) -> list[Assessment]:
    """Every trainee turn of a transcript, each judged with what came before it.

    `relabel` lets another judge (the LLM judge) replace the offline labels: (assessment, context, label).
    The persona's last line and words so far are carried along, so grading is linear in the transcript.
    """
    out = []
    context: str | None = None
    theirs: set[str] = set()
    for i, turn in enumerate(turns):
        if turn.speaker == "persona":
            context = turn.text
            theirs |= content_words(turn.text)
        if turn.speaker != "trainee":
            continue
        assessment = _assess(turn.text, i, context, theirs, rubrics, ours)
        if relabel is not None:
            assessment = relabel(assessment, context, f"judge turn {i}")
        out.append(assessment)
    return out
