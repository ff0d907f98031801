"""Speech-act and addressee cues for the focus model: is the turn asking or telling, and about whom.

Word n-grams see *which* words a turn uses but not what the turn does with them. Outside authors' turns
showed the gap: a question about the customer that mentions us ("What would you need to see from us?")
read as a pitch because of "us"; logistics and pleasantries naming our people ("I can send you her
email", "Our CTO sends her apologies") read as pitch; short reflections without a question read as
neutral; and pitches phrased as questions ("Could your team spare two stores for a pilot?", "How would
you feel about a flat subscription?") read as customer focus. These cues name the act (ask / tell /
offer / propose / reflect) and its addressee (you / we / a third party), so the model can learn that
"asking about you, mentioning us" is discovery while "proposing our thing as a question" is not.

Pure Python and a handful of regex searches per turn: the grader's speed budget is thousands of turns a
second on one core.
"""

from __future__ import annotations

import re

from trainer.grader.lexicons import WE_WORDS, YOU_WORDS, word_set

# Our people, our side: a turn that names them is usually a hand-off or pleasantry, not a pitch.
_OUR_PEOPLE_RE = re.compile(
    r"\b(?:our|my) (?:new |head of \w+ |chief \w+ (?:officer )?|managing |account |delivery |finance |"
    r"solution |support |project |sales |technical )?(?:colleague|colleagues|team|engineer|engineers|"
    r"analyst|analysts|founder|ceo|cto|cfo|coo|lead|manager|partner|people|office|side|contact|boss|"
    r"director|executive|consultant|consultants|specialist|specialists|expert|experts|assistant|"
    r"officer|head|architect)\b"
)
# Offers and hand-offs: "I'll send", "I can introduce", "happy to", "shall I", "would you like me to".
_OFFER_RE = re.compile(
    r"\b(?:i'll (?:send|ask|check|get|copy|give|leave|forward|share|introduce|put|make|find|drop|pass|"
    r"keep|follow|book|set|come|let)|i can (?:send|introduce|put|leave|give|share|forward|copy|ask|check|"
    r"get|drop|pass|come|call)|i will (?:send|ask|check|get|copy|give|share)|happy to|glad to|shall i|"
    r"would you like me|do you want me|want me to|let me know|i'll be|we'll be|i've brought|i brought|"
    r"i'll have|i'd be happy|if that suits|whenever it suits|whenever it's useful|if it helps you)\b"
)
# Scheduling and time words: logistics, not discovery, whoever they name.
_SCHEDULE_RE = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|o'clock|quarter past|"
    r"quarter to|half past|twenty past|ten to|five to|diary|slot|reschedule|keep it short|keep this short|"
    r"finish by|wrap up|run over|drop off|hard stop|lifts?|walk down|walk with you|same time|"
    r"summary|in writing|notes|minutes|on leave|in touch)\b"
)
# Pleasantries: regards, thanks, apologies, compliments, good luck.
_PLEASANTRY_RE = re.compile(
    r"\b(?:sends? (?:his|her|their) (?:regards|best|apologies|thanks)|sends? regards|apologies|"
    r"grateful|thank you|thanks|good luck|by the way|lovely|nice to|good to see|pleasure|"
    r"say hello|welcoming|congratulations|cheers|enjoy)\b"
)
# Pitches phrased as questions, and proposals: the question form sells rather than asks.
_PITCH_Q_RE = re.compile(
    r"^ ?(?:so |and |but |well |okay |ok |then |now |um |honestly |just )*"
    r"(?:would it help if|would it be useful if|"
    r"how would you feel about|how would (?:you|your \w+(?: \w+)?) (?:feel|react|like)|how do you think "
    r"(?:the |your )?\w+ would (?:react|feel)|what would you say to|what would you think of|"
    r"have you (?:thought about|considered|looked at|come across|seen|heard)|what if (?:you|your|we)|"
    r"could (?:your|you spare|we|i)|would you be open|would you consider|would you like to (?:see|try)|"
    r"isn't the real|shouldn't you|wouldn't you|did you know|want to see|would a |would an |"
    r"how about|why not|can i show|may i show|can i take you through)"
)
# Telling about us or showing: "let me show you", "we'd start with", "our platform does".
_SHOW_RE = re.compile(
    r"\b(?:let me (?:show|walk you through|tell you|explain|take you|demonstrate|share)|i'd love to show|"
    r"here's (?:how|why|what) (?:we|our)|what we do|we'd start|we would start|we can (?:help|do|offer|"
    r"give|deliver)|we offer|we provide|we guarantee|is different|sets us apart|unlike)\b"
)
# Empathy and acknowledgement without a question: listening moves, customer-focused.
_EMPATHY_RE = re.compile(
    r"\b(?:i'm sorry|i am sorry|sorry to hear|that's (?:a lot|a heavy|hard|tough|rough|a tough|a hard|"
    r"a big|not easy|frustrating|painful|a long)|must (?:be|have been|sting|feel|hurt)|"
    r"i (?:can )?(?:understand|imagine|see why)|no wonder|hard to argue|that's a lot|"
    r"you'd want|you want|you've been|you're (?:stuck|caught|the one)|and nobody|and you're)\b"
)
_QUESTION_SUBJECT = word_set("you your you're you've you'd you'll we our us we're we've we'd i i'm my")
_HEAD = word_set(
    "what how why where when who which do does did is are was were can could would will should shall "
    "have has had may might so and but well okay then if"
)


def _subject(words: list[str]) -> str:
    """Whom the clause is about: the first person word in its first few words (you / we / i / none)."""
    for tok in words[:5]:
        if tok in _QUESTION_SUBJECT:
            if tok in YOU_WORDS:
                return "you"
            if tok in WE_WORDS or tok == "we'd":
                return "we"
            return "i"
        if tok not in _HEAD:
            break
    return "none"


def _whom(you: bool, we: bool) -> str:
    return "you_we" if you and we else "you" if you else "we" if we else "third"


def speech_act_features(
    lowered: str,
    qtext: str,
    norm: list[str],
    qnorm: list[str],
    has_q: bool,
    asks: bool,
    n_you: int,
    n_we: int,
) -> list[tuple[str, float]]:
    """The speech-act cues of one turn (see the module docstring); names start with "sa:".

    `lowered` is the turn's tokens joined by spaces with a space either side, `qnorm` the tokens of the
    piece carrying its question (the whole turn when it asks nothing) and `qtext` those joined likewise;
    `n_you` / `n_we` count you- and we-words in the turn.
    """
    out: list[tuple[str, float]] = []
    add = out.append
    act = "ask" if asks else "tell"
    add(("sa:" + act, 1.0))
    if asks and has_q:
        q_you = not YOU_WORDS.isdisjoint(qnorm)
        q_we = not WE_WORDS.isdisjoint(qnorm)
        # Asking about them while mentioning us ("what did we get wrong for you?") vs about us only.
        add(("sa:ask_" + _whom(q_you, q_we), 1.0))
        words = [t for t in qnorm if t not in ("¿", "?", "!", ",")]
        add(("sa:ask_subj_" + _subject(words), 1.0))
    else:
        add(("sa:tell_subj_" + _subject(norm), 1.0))
        add(("sa:tell_" + _whom(n_you > 0, n_we > 0), 1.0))
    our_people = _OUR_PEOPLE_RE.search(lowered) is not None
    if our_people:
        add(("sa:our_people", 1.0))
    if _OFFER_RE.search(lowered):
        add(("sa:offer", 1.0))
        if our_people:
            add(("sa:offer_our_people", 1.0))
    if _SCHEDULE_RE.search(lowered):
        add(("sa:schedule", 1.0))
    if _PLEASANTRY_RE.search(lowered):
        add(("sa:pleasantry", 1.0))
        if our_people:
            add(("sa:pleasantry_our_people", 1.0))
    pitch_q = has_q and _PITCH_Q_RE.match(qtext) is not None
    if pitch_q:
        add(("sa:pitch_q", 1.0))
    show = _SHOW_RE.search(lowered) is not None
    if show:
        add(("sa:show", 1.0))
    if not asks and _EMPATHY_RE.search(lowered):
        add(("sa:empathy_then_show" if show else "sa:empathy_noq", 1.0))
    if not asks and len(norm) <= 14 and not show:
        add(("sa:short_tell", 1.0))
    return out
