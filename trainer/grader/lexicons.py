"""The hand-made vocabulary of the turn features: cue word sets, phrases and patterns, and the
fixed names of the bucketed counts.

Kept apart from the extraction code so the cue lists read (and are reviewed) as lists. Changing any
of them changes the features the weights were trained on: retrain after an edit.
"""

from __future__ import annotations

import re


def word_set(spaced: str) -> frozenset[str]:
    """A word set written as one space-separated string (keeps the lexicons compact)."""
    return frozenset(spaced.split())


# Question openers in English plus a few common ones in Spanish, French, German, Italian and
# Portuguese so that an open question in those languages still lights the same hand-made feature
# (German "was" is left out: in English it opens closed questions).
WH_WORDS = word_set(
    "what how why where when who which whom whose qué que cómo como por cuál cual cuáles dónde donde "
    "cuándo cuando quién quien cuánto cuanto quoi comment pourquoi quel quelle quels quelles où "
    "qu'est wie warum wieso weshalb welche welcher welches wo wann wer "
    "quali quale qual quais cosa come perché chi dove quanto quem onde"
)
OPEN_STARTERS = word_set("what how why qué cómo comment pourquoi wie warum come perché cosa")
AUX_WORDS = word_set(
    "do does did is are was were can could would will should shall have has had may might am don't "
    "doesn't didn't isn't aren't wasn't weren't can't couldn't wouldn't won't shouldn't haven't "
    "hasn't hadn't est-ce"
)
YOU_WORDS = word_set(
    "you your you're yours yourself you've you'd you'll yourselves usted ustedes tu tú su sus vous "
    "votre vos tu ton ta tes sie ihr ihre ihnen du dein deine"
)
WE_WORDS = word_set(
    "we our us we're we've we'll ours nosotros nuestro nuestra nuestros nous notre nos wir unser unsere"
)
I_WORDS = word_set("i i'm i've i'd i'll me my mine yo mi je moi mon ma ich mein meine mir mich")
PRODUCT_WORDS = word_set(
    "product products platform solution solutions feature features module modules license licenses "
    "licensing pricing price prices priced discount discounts subscription tier tiers demo roi "
    "integration integrations integrates implementation onboarding dashboard analytics automation "
    "automate automates software tool tools vendor offering guarantee warranty contract contracts "
    "proposal quote package bundle upgrade seat seats customers clients case study rollout producto "
    "plataforma solución precio descuento produit plateforme prix remise lösung preis rabatt"
)
COMMIT_WORDS = word_set(
    "sign signed signing book schedule commit commitment trial pilot purchase buy order deal kickoff "
    "start agree approve donate donation pledge contract paperwork"
)
# Meeting logistics (the call, the room, the invite): questions about these are neutral. Small-talk
# topics such as weather or travel stay out: for a retailer or an airline they are the business.
LOGISTICS_WORDS = word_set(
    "agenda minutes screen slide slides share sharing hear mute unmute camera link invite invitation "
    "calendar diary room notes recording recap email inbox dial dialling joining coffee lunch traffic "
    "parking lobby reception"
)
_ADVICE_PATTERNS = (
    "you should",
    "you need to",
    "you have to",
    "you must",
    "you ought",
    "i recommend",
    "i'd recommend",
    "i would recommend",
    "i suggest",
    "i'd suggest",
    "i would suggest",
    "my advice",
    "my recommendation",
    "the best thing",
    "make sure",
    "you'd be better",
    "what you want to do is",
)
_REFLECT_PATTERNS = (
    "sounds like",
    "it sounds",
    "it seems",
    "seems like",
    "so you",
    "you're saying",
    "you are saying",
    "what i'm hearing",
    "what i hear",
    "i hear",
    "if i understand",
    "let me make sure",
    "you feel",
    "you're feeling",
    "you're worried",
    "you're concerned",
    "you want",
    "you'd like",
    "for you",
    "to you",
    "on the one hand",
)
ADVICE_RE = re.compile("|".join(re.escape(p) for p in _ADVICE_PATTERNS))
REFLECT_RE = re.compile("|".join(re.escape(p) for p in _REFLECT_PATTERNS))
OPEN_PATTERNS = (
    "tell me",
    "walk me",
    "help me understand",
    "talk me through",
    "describe",
    "explain",
    "share with me",
    "say more",
    "what else",
    "how so",
    "in what way",
)
CLOSED_PATTERNS = (
    " or ",
    "is that",
    "is it",
    "right?",
    "correct?",
    "yes or no",
    "how many",
    "how much",
    "when ",
)

# Requests for elaboration that work as open questions with or without a question mark.
ELAB_RE = re.compile(
    r"\b(?:can|could|would) you (?:please )?(?:tell|describe|explain|talk|elaborate|share|say|walk|help"
    r"|think of|give me an example|expand|fill)|\btell me|\banything else|\banyone else|\bsomething else"
    r"|\bwonder(?:ing)? (?:what|how|why|about|if you could)|\bcurious (?:what|how|why|about)|\bsay more"
    r"|\bmore about|\bthoughts\b|\bwalk me|\btalk me"
)
# A sentence opening with one of these asks for an explanation even without a question mark.
REQUEST_START_RE = re.compile(
    r"^(?:(?:so|and|but|okay|ok|well|um|uh|yeah|now|then|alright|right)[\s,]+)*(?:tell me|help me understand"
    r"|walk me through|talk me through|describe|explain|i'd love to hear|i would love to hear|i'm curious"
    r"|i am curious|i wonder|i'm wondering|i was wondering|i am wondering|say more|let me ask)"
)
# Anywhere in a sentence without "?", these ask for an answer all the same ("So, I'm wondering where
# you are with all this", "if you could tell me a little about that", "on a scale of 1 to 10 ...").
REQUEST_ANY_RE = re.compile(
    r"\b(?:(?:wondering|curious)(?<!you're wondering)(?<!you are wondering)(?<!you wondering)"
    r"(?<!you're curious)(?<!you are curious)(?<!you curious)"
    r" (?:if|what|how|where|why|whether|about|when|who)"
    r"|i wonder\b|tell me\b|remind me\b|talk to me (?:about|a little|more)\b"
    r"|interested to (?:know|hear|learn)\b"
    r"|if you (?:can|could) (?:just |kind of |maybe )*(?:tell|give|share|walk|describe|explain|say)"
    r"|on a scale\b|i'd (?:like|love) to (?:know|hear|understand|find out|learn)"
    r"|(?:need|want) to (?:know|hear|understand)\b"
    r"|interested in (?:is )?(?:how|what|why|hearing|knowing))"
)
# Question openers that propose or push rather than ask about the counterpart ("why don't we ...").
PROPOSAL_START_RE = re.compile(
    r"^(?:(?:so|and|but|okay|ok|well|now|then)\s+)*(?:why don't we|why not|how about|what if|wouldn't|"
    r"isn't it|isn't that|don't you|can we|could we|shall we|should we|can i|could i|shall i|may i|"
    r"are you ready|ready to|would you like|do you want|want me|want the|have you seen|did you see|"
    r"have you heard|did you know|can you imagine|podemos|pouvons nous|können wir|possiamo)"
)
# Heads of one-fact questions (closed by definition): "how much", "which", "when", "what time".
FACT_HOW = word_set("much many long far old often soon big deep late early tall")
FACT_WH = word_set(
    "which when where who whom whose cuándo dónde quién cuánto cuántos cuántas quand où "
    "combien wann wo wer quando dove chi quanto quem onde"
)
FACT_NOUNS = word_set(
    "time day days date year years age month week hour number percentage percent amount budget price "
    "size deadline gym school job brand drink drinks medication dose name kind type sort"
)
# Words after "what" that make it an open question ("what do you ...", "what made ...").
WHAT_FUNCTION = word_set(
    "do does did is are was were can could would will should have has had am be it it's that that's "
    "i i'm i've i'd this these those you you're your we they he she else about if other makes made "
    "brings brought happened happens happen comes came keeps gets got goes went worries worry concerns "
    "concern stops stopped helps helped led leads would've might must"
)
TAG_WORDS = word_set("right correct yeah no okay ok huh true yes")
TAG_PAIRS = frozenset(
    (
        "isn't it",
        "isn't that",
        "aren't you",
        "don't you",
        "didn't you",
        "wasn't it",
        "won't you",
        "doesn't it",
    )
)

# A lone "Yeah?" or "Right?" is a backchannel, not a question.
BACKCHANNEL = word_set(
    "yeah yes right okay ok really no mm hmm huh oh sure good so yep ja oui sí si vraiment wirklich"
)

STOPWORDS = word_set(
    "the a an and or but so to of in on at for with is are was were be been it that this i you we "
    "they he she my your our me um uh yeah okay ok well like just really know mean do did have has "
    "not no yes what how why can would could will about there here if then than as by from"
)
# Fillers and hedges skipped before a question's head ("so, um, roughly how many ...").
HEAD_SKIP = word_set(
    "so and um uh well okay ok now but alright right yeah oh mm hmm roughly approximately about exactly "
    "just like then also and-and so-so"
)
# Fillers skipped before a question's first words ("so, um, what ...").
FILLERS = word_set("so and um uh well okay ok now but alright right yeah oh")
STATEMENT_STARTS = word_set("so sounds it you you're")
FOCUS_LEXICON = PRODUCT_WORDS | COMMIT_WORDS | LOGISTICS_WORDS
# Punctuation tokens left out of a question's words.
Q_PUNCT = frozenset(("¿", "?", "!"))


# Bucketed counts: the edges of each bucket and the feature names they index, built once.
def _names(prefix: str, count: int) -> tuple[tuple[str, float], ...]:
    """Binary features "<prefix>0" .. "<prefix><count - 1>", built once instead of per turn.

    Bucketed counts index them with `bisect_left(edges, count)`: the first edge >= count, or
    len(edges) past the last one.
    """
    return tuple((f"{prefix}{i}", 1.0) for i in range(count))


BIAS_LEN_EDGES = (0, 1, 3, 7, 15, 30, 60)
BIAS_LEN = _names("h:bias_len", len(BIAS_LEN_EDGES) + 1)
OVERLAP_EDGES = (0, 1, 3, 5)
CTX_OVERLAP = _names("h:ctx_overlap", len(OVERLAP_EDGES) + 1)
CTX_LEN_EDGES = (3, 10, 30)
CTX_LEN = _names("h:ctx_len", len(CTX_LEN_EDGES) + 1)
QLEN_EDGES = (2, 4, 7, 12, 20)
QH_QLEN = _names("qh:qlen", len(QLEN_EDGES) + 1)
TURN_LEN_EDGES = (1, 3, 7, 15, 30, 60)
QH_LEN = _names("qh:len", len(TURN_LEN_EDGES) + 1)
# Counts capped at 3.
H_N_Q = _names("h:n_q", 4)
QH_N_Q = _names("qh:n_q", 4)
H_YOU = _names("h:you", 4)
H_WE = _names("h:we", 4)
H_I = _names("h:i", 4)
