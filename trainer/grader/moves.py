"""What the persona hears in a turn once its focus and question type are known: the move (goodbye, next
step, insight, pitch, question, reflection) and the SPIN type, from the turn's wording."""

from __future__ import annotations

import re

from trainer.text import Phrases, question_sentence, sentences
from trainer.turns import Focus, Move, QuestionKind, Spin

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
TIME_TOGETHER = re.compile(
    r"\b(?:working session|session|workshop|half an hour|half-an-hour|half-day|half a day|an hour|"
    r"(?:a|two|a couple of) hours|"
    r"(?:ten|fifteen|twenty|thirty|forty|forty-five|sixty|ninety|\d+)[- ]minutes?|"
    r"(?:come|came|coming) back|sit down|sat down|sit with|walk through|go through|went through|"
    r"work through|worked through|walking through|going through|rehearse|together|half hour|next week|"
    r"this week|after (?:your|the|today's) "
    r"(?:review|kickoff|meeting|call)|a working day|a morning|an afternoon|tomorrow|"
    r"(?:on|by|this|next|before) (?:monday|tuesday|wednesday|thursday|friday))\b"
)
_OURS = re.compile(r"\bour\b")  # "would it help if our squad took over...?" offers us, not time together
PRODUCT = Phrases(
    "demo", "our platform", "our product", "our solution", "our service", "our tool", "pricing", "discount",
    # whole words only: "contract" starts "contractors" and "sign" starts "significant"; a trial of ours,
    # not "trial ventures"
    "contract ", "contract.", "contract,", "contract?", "contracts", "sign ", "signed", "signing",
    "free trial", "trial period", "trial licen", "trial account", "pilot with us", "feature", "licen",
    # "a proposal" is paper we send; "Then my proposal: you and I rebuild the plan" proposes time together
    "quote", "a proposal", "the proposal", "our proposal", "proposal for", "purchase",
)  # fmt: skip
INSIGHT = Phrases(
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
PEER_STORY = re.compile(
    r"\b(?:i have been|i've been|i was) (?:studying|researching|looking into|reading about)\b|"
    r"\b(?:i|i've|i have) (?:studied|researched)\b|\bin my research\b|"
    r"\b(?:a|one|another) (?:\w+ ){0,3}(?:company|utility|firm|retailer|brand|bank|insurer|operator|carrier|"
    r"cio|ceo|cfo|coo) (?:i|we) (?:studied|know|knew|looked at|spoke to|talked to|met)\b"
)
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
    product = bool(PRODUCT.search(low))
    if _GOODBYE.search(_NOT_GOODBYE.sub("", low)) and not question:
        return "goodbye"
    proposes = proposes_time(low) and not _OURS.search(low)
    if (_NEXT_STEP.search(low) or proposes) and not product and question is not None:
        return "next_step"
    if (INSIGHT.search(low) or PEER_STORY.search(low)) and not product and focus != "customer":
        return "insight"
    if focus == "pitch":
        return "pitch"
    if focus == "customer":
        if question == "closed" and checks_back(text):
            return "reflection"
        if question == "open":
            return "open_question"
        if question == "closed":
            return "closed_question"
        return "reflection"
    return "off_topic"


# A summary closed by a bare "Yes?" or "Right?" checks it too ("So, if I say it back: … Yes?").
_BARE_CHECK = re.compile(r"(?:^|[.!:—–]\s*)(?:yes|right|no|fair|true)\?\s*$")


def checks_back(text: str) -> bool:
    """A statement about them, then a check that it is right."""
    low = text.lower()
    bare = _BARE_CHECK.search(low) is not None
    if not bare and not _CHECK_BACK.search(low):  # the common case, without splitting the turn
        return False
    asked = question_sentence(text)
    if not asked or (len(sentences(text)) < 2 and ":" not in asked):
        return False
    return bare or bool(_CHECK_BACK.search(asked.lower()))


def proposes_time(low: str) -> bool:
    """A sentence that proposes, then names time together ("Could we take thirty minutes next week?");
    not "Good session. Can I ask you something?", whose time word comes before the proposal."""
    if not TIME_TOGETHER.search(low):  # the common case, without splitting the turn into sentences
        return False
    for sentence in sentences(low):
        if _DURATION_ASKED.match(sentence):
            return True
        opener = _PROPOSAL.search(sentence)
        if opener and TIME_TOGETHER.search(sentence, opener.start()):
            return True
    return False


def spin_of(question_text: str, focus: Focus, question: QuestionKind | None) -> Spin | None:
    if focus != "customer" or question is None:
        return None
    low = question_text.lower()
    for kind, pattern in _SPIN:
        if pattern.search(low):
            return kind
    return "situation"
