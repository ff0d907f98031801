"""Corrections to the classifier's focus that its training turns cannot teach: asking leave to ask, a pitch
set aside, promises and offers of commercial paper, questions that offer what we sell, a question naming
what we sell, and their ground granted back to them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from trainer.grader.moves import TIME_TOGETHER, checks_back, proposes_time
from trainer.rubrics import Rubrics
from trainer.text import Phrases
from trainer.turns import Focus, QuestionKind

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
# "I will be short, and I will not sell you anything today.": a promise not to pitch, with nothing told.
_WONT_SELL = re.compile(
    r"\b(?:not|won't|will not|not going to) (?:pitch|sell) (?:you )?(?:anything|a thing)\b"
)
# "Say a little more about what the board is watching for.": asking them to go on is about them.
_SAY_MORE = re.compile(
    r"\b(?:say|tell me|talk me through) (?:a (?:little|bit) )?more\b|\b(?:go on|keep going|say more)[.?!]"
    # "Can you open that up a little for me?", "Could you unpack that?", "Would you go a bit deeper?"
    r"|\b(?:can|could|would|will) you (?:please |maybe |perhaps )?(?:open (?:that|it|this) up|unpack\b|"
    r"expand (?:on )?(?:that|it|this)\b|elaborate\b|(?:go|dig) (?:a (?:little|bit) )?deeper\b)"
)
_YOU = re.compile(r"\byou(?:r|'re|'ve)?\b")
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


def _asks_if_they_want_ours(asked: str, low: str) -> bool:
    """A question offering something we sell; proposing time together ("would it help to spend an hour
    next week on your forecast?") is not."""
    if not (_WOULD_YOU_WANT.search(asked) and _CAPABILITY.search(asked)) and not _IF_YOU_COULD.search(asked):
        return False
    return not (TIME_TOGETHER.search(asked) or proposes_time(low))


def names_us(text: str, ours: Sequence[str]) -> bool:
    """Whether the turn names what the scenario's rep sells."""
    return any(re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE) for name in ours)


def corrected_focus(
    text: str,
    focus: Focus,
    question: QuestionKind | None,
    *,
    asked: str | None,
    ours_named: bool,
    names_ours: bool,
    rubrics: Rubrics,
) -> tuple[Focus, QuestionKind | None]:
    """The classifier's labels after the rules above; `asked`: the turn's question sentence, `ours_named`:
    the turn names us or our product, `names_ours`: it names the scenario's own product."""
    low = text.lower()
    if focus == "neutral":
        if question is None and _PROMISE.search(low):
            focus = "pitch"  # promising to do whatever they ask sells us; it is not small talk
        elif _COMMERCIAL.search(low) and _SEND_OFFER.search(low):
            focus = "pitch"  # offering to send the quote or more scope pushes the sale
    if focus == "customer" and names_ours:
        focus = "pitch"  # "Which budget line would the RouteLedger licence come from?" asks about us
    elif focus == "pitch" and not ours_named and _YOU.search(low) and checks_back(text):
        focus = "customer"  # their situation played back to them and checked: no pitch
    if focus == "pitch" and not ours_named and asked and _YOU.search(low) and _NOT_ABOUT_US.search(low):
        focus = "customer"  # the pitch set aside, a question about them
    elif focus == "pitch" and not ours_named and not asked and _WONT_SELL.search(low):
        focus = "neutral"  # promising not to sell is manners, not a pitch
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
    return focus, question
