"""Feature extraction for the per-turn classifier, shared by training and inference.

Kept in one pure-Python module so the features the weights were trained on can never drift from
the features computed at run time. No numpy here: inference must stay dependency-free and fast.
"""

from __future__ import annotations

import functools
import hashlib
import re
from bisect import bisect_left
from dataclasses import dataclass

FOCUS_CLASSES: tuple[str, ...] = ("customer", "pitch", "neutral")
QUESTION_CLASSES: tuple[str, ...] = ("none", "open", "closed")

# Turns longer than this are cut to their head and tail: the question usually sits at the end and
# the features of a 5,000-character paste add nothing but time.
MAX_CHARS = 1500
_HEAD_CHARS = 400
_MAX_TOKEN = 24
_MAX_CONTEXT_TOKENS = 30


def word_set(spaced: str) -> frozenset[str]:
    """A word set written as one space-separated string (keeps the lexicons compact)."""
    return frozenset(spaced.split())


# Possessive quantifiers: nothing follows a word in these patterns, so backtracking into it could
# never change a match; not recording the backtracking points makes the tokeniser faster.
_TOKEN_RE = re.compile(r"\w++(?:['’]\w++)*+|[?¿$€£%!]", re.UNICODE)
_WORD_RE = re.compile(r"\w++(?:['’]\w++)*+", re.UNICODE)
# The same patterns for ASCII-only text, on which Unicode and ASCII \w agree: the ASCII matcher is
# faster, and most turns are ASCII (see _find_tokens).
_TOKEN_ASCII_RE = re.compile(_TOKEN_RE.pattern, re.ASCII)
_WORD_ASCII_RE = re.compile(_WORD_RE.pattern, re.ASCII)
# Split after sentence punctuation and at line breaks. Both alternatives start at a whitespace
# character: the lookahead rejects every other position before the costlier lookbehind runs.
_SENT_SPLIT_RE = re.compile(r"(?=\s)(?:(?<=[.!?…])\s+|\n+)")
_BRACKET_RE = re.compile(r"\[[^\]]{0,60}\]")
_DIGIT_RE = re.compile(r"\d")

# Question openers in English plus a few common ones in Spanish, French, German, Italian and
# Portuguese so that an open question in those languages still lights the same hand-made feature
# (German "was" is left out: in English it opens closed questions).
_WH_WORDS = word_set(
    "what how why where when who which whom whose qué que cómo como por cuál cual cuáles dónde donde "
    "cuándo cuando quién quien cuánto cuanto quoi comment pourquoi quel quelle quels quelles où "
    "qu'est wie warum wieso weshalb welche welcher welches wo wann wer "
    "quali quale qual quais cosa come perché chi dove quanto quem onde"
)
_OPEN_STARTERS = word_set("what how why qué cómo comment pourquoi wie warum come perché cosa")
_AUX_WORDS = word_set(
    "do does did is are was were can could would will should shall have has had may might am don't "
    "doesn't didn't isn't aren't wasn't weren't can't couldn't wouldn't won't shouldn't haven't "
    "hasn't hadn't est-ce"
)
_YOU_WORDS = word_set(
    "you your you're yours yourself you've you'd you'll yourselves usted ustedes tu tú su sus vous "
    "votre vos tu ton ta tes sie ihr ihre ihnen du dein deine"
)
_WE_WORDS = word_set(
    "we our us we're we've we'll ours nosotros nuestro nuestra nuestros nous notre nos wir unser unsere"
)
_I_WORDS = word_set("i i'm i've i'd i'll me my mine yo mi je moi mon ma ich mein meine mir mich")
_PRODUCT_WORDS = word_set(
    "product products platform solution solutions feature features module modules license licenses "
    "licensing pricing price prices priced discount discounts subscription tier tiers demo roi "
    "integration integrations integrates implementation onboarding dashboard analytics automation "
    "automate automates software tool tools vendor offering guarantee warranty contract contracts "
    "proposal quote package bundle upgrade seat seats customers clients case study rollout producto "
    "plataforma solución precio descuento produit plateforme prix remise lösung preis rabatt"
)
_COMMIT_WORDS = word_set(
    "sign signed signing book schedule commit commitment trial pilot purchase buy order deal kickoff "
    "start agree approve donate donation pledge contract paperwork"
)
# Meeting logistics (the call, the room, the invite): questions about these are neutral. Small-talk
# topics such as weather or travel stay out: for a retailer or an airline they are the business.
_LOGISTICS_WORDS = word_set(
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
_ADVICE_RE = re.compile("|".join(re.escape(p) for p in _ADVICE_PATTERNS))
_REFLECT_RE = re.compile("|".join(re.escape(p) for p in _REFLECT_PATTERNS))
_OPEN_PATTERNS = (
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
_CLOSED_PATTERNS = (
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
_ELAB_RE = re.compile(
    r"\b(?:can|could|would) you (?:please )?(?:tell|describe|explain|talk|elaborate|share|say|walk|help"
    r"|think of|give me an example|expand|fill)|\btell me|\banything else|\banyone else|\bsomething else"
    r"|\bwonder(?:ing)? (?:what|how|why|about|if you could)|\bcurious (?:what|how|why|about)|\bsay more"
    r"|\bmore about|\bthoughts\b|\bwalk me|\btalk me"
)
# A sentence opening with one of these asks for an explanation even without a question mark.
_REQUEST_START_RE = re.compile(
    r"^(?:(?:so|and|but|okay|ok|well|um|uh|yeah|now|then|alright|right)[\s,]+)*(?:tell me|help me understand"
    r"|walk me through|talk me through|describe|explain|i'd love to hear|i would love to hear|i'm curious"
    r"|i am curious|i wonder|i'm wondering|i was wondering|i am wondering|say more|let me ask)"
)
# Anywhere in a sentence without "?", these ask for an answer all the same ("So, I'm wondering where
# you are with all this", "if you could tell me a little about that", "on a scale of 1 to 10 ...").
_REQUEST_ANY_RE = re.compile(
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
_PROPOSAL_START_RE = re.compile(
    r"^(?:(?:so|and|but|okay|ok|well|now|then)\s+)*(?:why don't we|why not|how about|what if|wouldn't|"
    r"isn't it|isn't that|don't you|can we|could we|shall we|should we|can i|could i|shall i|may i|"
    r"are you ready|ready to|would you like|do you want|want me|want the|have you seen|did you see|"
    r"have you heard|did you know|can you imagine|podemos|pouvons nous|können wir|possiamo)"
)
# Heads of one-fact questions (closed by definition): "how much", "which", "when", "what time".
_FACT_HOW = word_set("much many long far old often soon big deep late early tall")
_FACT_WH = word_set(
    "which when where who whom whose cuándo dónde quién cuánto cuántos cuántas quand où "
    "combien wann wo wer quando dove chi quanto quem onde"
)
_FACT_NOUNS = word_set(
    "time day days date year years age month week hour number percentage percent amount budget price "
    "size deadline gym school job brand drink drinks medication dose name kind type sort"
)
# Words after "what" that make it an open question ("what do you ...", "what made ...").
_WHAT_FUNCTION = word_set(
    "do does did is are was were can could would will should have has had am be it it's that that's "
    "i i'm i've i'd this these those you you're your we they he she else about if other makes made "
    "brings brought happened happens happen comes came keeps gets got goes went worries worry concerns "
    "concern stops stopped helps helped led leads would've might must"
)
_TAG_WORDS = word_set("right correct yeah no okay ok huh true yes")
_TAG_PAIRS = frozenset(
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
_BACKCHANNEL = word_set(
    "yeah yes right okay ok really no mm hmm huh oh sure good so yep ja oui sí si vraiment wirklich"
)

_STOPWORDS = word_set(
    "the a an and or but so to of in on at for with is are was were be been it that this i you we "
    "they he she my your our me um uh yeah okay ok well like just really know mean do did have has "
    "not no yes what how why can would could will about there here if then than as by from"
)


CHAR_SIZES: tuple[int, ...] = (3, 4)


@functools.lru_cache(maxsize=65536)
def token_grams(tok: str) -> tuple[str, ...]:
    """Character n-grams of one normalised token (padded with spaces); empty for 1-char tokens."""
    if len(tok) < 2:
        return ()
    w = " " + tok + " "
    return tuple("c:" + w[s : s + size] for size in CHAR_SIZES for s in range(len(w) - size + 1))


@dataclass(frozen=True)
class Features:
    """Sparse features of one turn.

    Per-token features (word unigram "w:" and its character n-grams "c:") are kept implicit as
    `norm` plus two scales, so inference can cache them per token; `focus`/`owners` expand them
    into the flat list training uses. `other_owners[i]` is the token index feature i came from or -1.
    """

    norm: list[str]
    wscale: float
    cscale: float
    other: list[tuple[str, float]]
    other_owners: list[int]
    question: list[tuple[str, float]]
    tokens: list[str]  # surface forms, for evidence
    asks: bool  # has a real "?" sentence or an explicit request to explain, so the turn asks something

    @property
    def focus(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        for tok in self.norm:
            out.append(("w:" + tok, self.wscale))
            out.extend((g, self.cscale) for g in token_grams(tok))
        out.extend(self.other)
        return out

    @property
    def owners(self) -> list[int]:
        out: list[int] = []
        for i, tok in enumerate(self.norm):
            out.extend([i] * (1 + len(token_grams(tok))))
        out.extend(self.other_owners)
        return out


def split_of(key: str, held_out_share: int = 4) -> str:
    """Deterministic train/held-out split: about 1 in `held_out_share` keys land in held-out.

    Hash-based (not random) so training and calibration agree without sharing state.
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return "held-out" if int(digest[:8], 16) % held_out_share == 0 else "train"


def _find_tokens(text: str, pos: int = 0) -> list[str]:
    """`_TOKEN_RE.findall(text, pos)`, through the faster ASCII twin when `text` is ASCII."""
    return (_TOKEN_ASCII_RE if text.isascii() else _TOKEN_RE).findall(text, pos)


def _find_words(text: str) -> list[str]:
    """`_WORD_RE.findall(text)`, through the faster ASCII twin when `text` is ASCII."""
    return (_WORD_ASCII_RE if text.isascii() else _WORD_RE).findall(text)


def _clean(text: str) -> str:
    """Drop transcript annotations, unify apostrophes and cut overlong turns to head + tail."""
    if len(text) > MAX_CHARS:
        text = text[:_HEAD_CHARS] + " " + text[-(MAX_CHARS - _HEAD_CHARS) :]
    if "[" in text:  # an annotation needs a "[": most turns skip the regex scan
        text = _BRACKET_RE.sub(" ", text)
    if not text.isascii():  # the characters replaced are all non-ASCII, and isascii() is O(1)
        text = text.replace("’", "'").replace("‘", "'").replace("？", "?").replace("¿", " ¿ ")
    return text.strip()


def _tokens(text: str) -> tuple[list[str], list[str]]:
    """Return (surface tokens, normalised tokens): lowercase, digits folded to 0."""
    surface = _find_tokens(text)
    return surface, _normalise(surface)


def _normalise(surface: list[str]) -> list[str]:
    """Normalise tokens: lowercase, digits folded to 0, capped at _MAX_TOKEN characters.

    Token by token in effect (`_normalise(s)[i:] == _normalise(s[i:])`), which `extract` relies on
    to reuse a turn's tokens for its question sentence and to normalise only the context's tail.
    """
    # Tokens never contain spaces, so one lower() and one digit substitution over the joined string
    # normalise them all at once.
    norm = _DIGIT_RE.sub("0", " ".join(surface).lower().replace("’", "'")).split(" ")
    if len(norm) != len(surface):  # defensive: a case change that produced a space
        norm = [_DIGIT_RE.sub("0", t.lower().replace("’", "'")) for t in surface]
    # Unspaced scripts and junk can make one giant "word"; its head is enough.
    if norm and max(map(len, norm)) > _MAX_TOKEN:
        norm = [t if len(t) <= _MAX_TOKEN else t[:_MAX_TOKEN] for t in norm]
    return norm if surface else []


# The counterpart's line is tokenised from a space this far from its end when it is longer.
_CONTEXT_WINDOW = 400


def _context_tail(ctx: str) -> list[str]:
    """The last _MAX_CONTEXT_TOKENS surface tokens of the counterpart's (cleaned) line.

    A long line is tokenised only from a space near its end: no token contains a space, so the
    tokens after it are exactly those the whole line has there. Too few of them (long unspaced
    text): the whole line.
    """
    if len(ctx) > _CONTEXT_WINDOW:
        start = ctx.find(" ", len(ctx) - _CONTEXT_WINDOW)
        if start >= 0:
            tail = _find_tokens(ctx, start)
            if len(tail) >= _MAX_CONTEXT_TOKENS:
                return tail[-_MAX_CONTEXT_TOKENS:]
    return _find_tokens(ctx)[-_MAX_CONTEXT_TOKENS:]


def _names(prefix: str, count: int) -> tuple[tuple[str, float], ...]:
    """Binary features "<prefix>0" .. "<prefix><count - 1>", built once instead of per turn.

    Bucketed counts index them with `bisect_left(edges, count)`: the first edge >= count, or
    len(edges) past the last one.
    """
    return tuple((f"{prefix}{i}", 1.0) for i in range(count))


_BIAS_LEN_EDGES = (0, 1, 3, 7, 15, 30, 60)
_BIAS_LEN = _names("h:bias_len", len(_BIAS_LEN_EDGES) + 1)
_OVERLAP_EDGES = (0, 1, 3, 5)
_CTX_OVERLAP = _names("h:ctx_overlap", len(_OVERLAP_EDGES) + 1)
_CTX_LEN_EDGES = (3, 10, 30)
_CTX_LEN = _names("h:ctx_len", len(_CTX_LEN_EDGES) + 1)
_QLEN_EDGES = (2, 4, 7, 12, 20)
_QH_QLEN = _names("qh:qlen", len(_QLEN_EDGES) + 1)
_TURN_LEN_EDGES = (1, 3, 7, 15, 30, 60)
_QH_LEN = _names("qh:len", len(_TURN_LEN_EDGES) + 1)
# Counts capped at 3.
_H_N_Q = _names("h:n_q", 4)
_QH_N_Q = _names("qh:n_q", 4)
_H_YOU = _names("h:you", 4)
_H_WE = _names("h:we", 4)
_H_I = _names("h:i", 4)

# Punctuation tokens left out of a question's words.
_Q_PUNCT = frozenset(("¿", "?", "!"))
# Fillers skipped before a question's first words ("so, um, what ...").
_FILLERS = word_set("so and um uh well okay ok now but alright right yeah oh")
_STATEMENT_STARTS = word_set("so sounds it you you're")
_FOCUS_LEXICON = _PRODUCT_WORDS | _COMMIT_WORDS | _LOGISTICS_WORDS


# Self-interruptions inside a sentence ("Is it-- Why'd she leave?", "how's that- how's that going"):
# a break between two attempts at a question, so the question features look at the last attempt.
_DASH_BREAK_RE = re.compile(r"\s*(?:-{2,}|[—–])\s*|(?<=\w)-\s+|\s+-(?=\w)")
_HAS_WORD_RE = re.compile(r"\w")
_TRUNCATED_RE = re.compile(r"(?:-|—|–|\.\.\.|…)\s*$")


def _has_breaks(text: str) -> bool:
    """Whether `text` may hold a dash break or a trailing cut (a dash, "..." or "…")."""
    return "-" in text or "—" in text or "–" in text or "…" in text or "..." in text


def _segments(raw: str) -> list[tuple[str, bool]]:
    """Sentences cut further at dash breaks, each with whether it was cut off (ended in a dash).

    A piece with no words ("--?") joins the piece before it, so "..., or--?" stays one question.
    """
    out: list[tuple[str, bool]] = []
    # Splitting removes only whitespace, so a turn without dashes or dots has none in any sentence.
    breaks = _has_breaks(raw)
    for sent in _SENT_SPLIT_RE.split(raw):
        if not breaks or not _has_breaks(sent):
            sent = sent.strip()
            if sent:
                out.append((sent, False))
            continue
        pieces = _DASH_BREAK_RE.split(sent)
        last = len(pieces) - 1
        for i, piece in enumerate(pieces):
            cut = i < last or bool(_TRUNCATED_RE.search(piece))
            piece = piece.strip(" -—–\t")
            if not piece:
                continue
            if out and not _HAS_WORD_RE.search(piece):
                out[-1] = (out[-1][0] + piece, cut and "?" not in piece)
                continue
            out.append((piece, cut))
    return out


def _question_sentence(segments: list[tuple[str, bool]], real: list[bool]) -> tuple[str, bool, bool]:
    """The piece that carries the turn's question, whether it has a '?', and whether it was cut off.

    `real[i]` says whether segment i has a '?' and is a real question (`_is_real_question`).
    The last real question with '?' wins ("Thanks. What keeps you up at night?" is counted by its
    question; "Is it-- Why'd she leave?" by its second attempt). Without a '?', the last piece that
    opens like a question ("how often do you think you'll--") stands in, else the last piece.
    """
    fallback = None
    for (sent, cut), is_real in zip(reversed(segments), reversed(real), strict=True):
        if is_real:
            return sent, True, cut
        if fallback is None and "?" in sent:
            fallback = (sent, True, cut)
    if fallback is not None:
        return fallback
    for sent, cut in reversed(segments):
        head = _head(_find_words(sent.lower()))
        if head and (head[0] in _WH_WORDS or head[0] in _AUX_WORDS):
            return sent, False, cut
    if segments:
        return segments[-1][0], False, segments[-1][1]
    return "", False, False


_HEAD_SKIP = word_set(
    "so and um uh well okay ok now but alright right yeah oh mm hmm roughly approximately about exactly "
    "just like then also and-and so-so"
)


def _head(words: list[str]) -> list[str]:
    """The words of a question after its fillers and hedges ("so, um, roughly how many ...")."""
    i = 0
    while i < len(words) - 1 and words[i] in _HEAD_SKIP:
        i += 1
    return words[i : i + 3]


def _first_words(words: list[str], n: int) -> list[str]:
    """The first `n` of a question's `words` (punctuation already dropped) after leading fillers."""
    i = 0
    last = len(words) - 1
    while i < last and words[i] in _FILLERS:
        i += 1
    return words[i : i + n]


def extract(text: str | None, context: str | None = None) -> Features:
    """Compute focus and question features for one trainee turn and the counterpart line before it.

    This runs for every turn the grader sees, so intermediate results (tokens, the question
    sentence, its words) are computed once and shared, and work whose result would be unused is
    skipped. The feature lists (names, values and order) must not change: the weights were
    trained on them, and the order fixes the summation order of the scores.
    """
    raw = _clean(text or "")
    surface, norm = _tokens(raw)
    n = len(norm)
    if n == 0:
        return Features(norm, 0.0, 0.0, [("h:bias_len0", 1.0)], [-1], [("qh:empty", 1.0)], surface, False)
    # Features tied to a token (bigrams, lexicon hits) carry its index for evidence; the hand-made
    # ones in `hand` (value 1) and `weighted` belong to no token.
    hand: list[tuple[str, float]] = [_BIAS_LEN[bisect_left(_BIAS_LEN_EDGES, n)]]
    add = hand.append

    # Word unigrams (implicit, see Features) and bigrams, scaled so long turns do not dominate by
    # sheer count; character n-grams (3-4) add morphology and some robustness to other languages.
    wscale = 1.0 / (n**0.5)
    # A token of length L >= 2 has L 3-grams and L - 1 4-grams (padded); 1-char tokens have none.
    lens = list(map(len, norm))
    n_grams = 2 * sum(lens) - n - lens.count(1)
    cscale = 1.0 / (n_grams**0.5) if n_grams else 0.0
    focus = [(f"b:{prev} {tok}", wscale) for prev, tok in zip(["<s>", *norm], norm, strict=False)]
    owners = list(range(n))

    lowered = " " + " ".join(norm) + " "
    segments = _segments(raw)
    # Which pieces are real questions: the question sentence, `asks` and n_real_q all need it.
    real = [("?" in sent and _is_real_question(sent)) for sent, _ in segments]
    n_real_q = real.count(True)
    qsent, has_q, cut = _question_sentence(segments, real)
    if qsent == raw:
        qnorm = norm
    else:
        # The question is usually the turn's last sentence: reuse those normalised tokens.
        qsurface = _find_tokens(qsent)
        k = len(qsurface)
        qnorm = norm[n - k :] if k <= n and surface[n - k :] == qsurface else _normalise(qsurface)
    words = qnorm if _Q_PUNCT.isdisjoint(qnorm) else [t for t in qnorm if t not in _Q_PUNCT]
    first = _first_words(words, 3)
    f1 = first[0] if first else ""
    n_q = norm.count("?")

    # Hand-made features that generalise across corpora.
    if n_q:
        add(("h:has_q", 1.0))
        add(_H_N_Q[min(n_q, 3)])
        if norm[-1] == "?":
            add(("h:ends_q", 1.0))
    if has_q or f1 in _WH_WORDS or f1 in _AUX_WORDS:
        if f1 in _WH_WORDS:
            add(("h:q_wh", 1.0))
        elif f1 in _AUX_WORDS:
            add(("h:q_aux", 1.0))
        if first:
            add(("qf:" + " ".join(first[:2]), 1.0))
    # Counting only when a lexicon occurs at all (isdisjoint stops at the first hit).
    n_you = sum(map(_YOU_WORDS.__contains__, norm)) if not _YOU_WORDS.isdisjoint(norm) else 0
    n_we = sum(map(_WE_WORDS.__contains__, norm)) if not _WE_WORDS.isdisjoint(norm) else 0
    n_i = sum(map(_I_WORDS.__contains__, norm)) if not _I_WORDS.isdisjoint(norm) else 0
    n_prod = 0
    if not _FOCUS_LEXICON.isdisjoint(norm):
        # Lexicon hits belong to their token (evidence), left to right.
        for i, tok in enumerate(norm):
            if tok in _FOCUS_LEXICON:
                if tok in _PRODUCT_WORDS:
                    focus.append(("h:product", 1.0))
                    owners.append(i)
                    n_prod += 1
                if tok in _COMMIT_WORDS:
                    focus.append(("h:commit", 1.0))
                    owners.append(i)
                if tok in _LOGISTICS_WORDS:
                    focus.append(("h:logistics", 1.0))
                    owners.append(i)
    add(_H_YOU[min(n_you, 3)])
    add(_H_WE[min(n_we, 3)])
    add(_H_I[min(n_i, 3)])
    if n_you > n_we + n_i:
        add(("h:you_dominant", 1.0))
    elif n_we + n_i > n_you:
        add(("h:self_dominant", 1.0))
    if n_prod >= 2:
        add(("h:product_many", 1.0))
    if _ADVICE_RE.search(lowered):
        add(("h:advice", 1.0))
    if _REFLECT_RE.search(lowered):
        add(("h:reflect", 1.0))
    if _DIGIT_RE.search(raw) or "%" in norm or "$" in norm or "€" in norm:
        add(("h:number", 1.0))
    if has_q:
        # Who the question is about: a question carrying our side or our product is usually a pitch.
        if not _WE_WORDS.isdisjoint(qnorm):
            add(("h:q_we", 1.0))
        if not _PRODUCT_WORDS.isdisjoint(qnorm):
            add(("h:q_product", 1.0))
        if not _LOGISTICS_WORDS.isdisjoint(qnorm):
            add(("h:q_logistics", 1.0))
    if not has_q and norm[0] in _STATEMENT_STARTS:
        add(("h:statement_start_" + norm[0], 1.0))

    # The counterpart's line: whether they asked something, and how much of it the turn echoes back.
    ctx_raw = _clean(context) if context else ""
    if ctx_raw:
        # The end of a long counterpart line is what the turn answers.
        ctx_norm = _normalise(_context_tail(ctx_raw))
        if "?" in ctx_norm:
            add(("h:ctx_q", 1.0))
            # Answering the counterpart's question (telling) vs asking back.
            add(("h:ctx_q_ask", 1.0) if has_q else ("h:ctx_q_tell", 1.0))
        mine = {t for t in norm if t not in _STOPWORDS and len(t) > 2}
        if mine:
            # `mine` holds content words only, so its overlap with the context's tokens is its
            # overlap with the context's content words.
            overlap = len(mine.intersection(ctx_norm)) / len(mine)
            add(_CTX_OVERLAP[bisect_left(_OVERLAP_EDGES, int(overlap * 10))])
        add(_CTX_LEN[bisect_left(_CTX_LEN_EDGES, len(ctx_norm))])
        xs = 0.5 / (max(len(ctx_norm), 1) ** 0.5)
        weighted = [("x:" + t, xs) for t in dict.fromkeys(ctx_norm)]
    else:
        add(("h:no_ctx", 1.0))
        weighted = []

    # A real question asks; otherwise a sentence without "?" may still request an answer.
    asks = n_real_q > 0
    if not asks:
        for sent, _ in segments:
            if "?" not in sent:
                low = sent.lower()
                if _REQUEST_START_RE.match(low) or _REQUEST_ANY_RE.search(low):
                    asks = True
                    break
    proposal = False
    if has_q:
        # The question's tokens without "¿" and "?" (`words` also lacks "!").
        ptext = " ".join(words) if "!" not in qnorm else " ".join([t for t in qnorm if t not in ("¿", "?")])
        proposal = _PROPOSAL_START_RE.match(ptext) is not None
    if proposal:
        add(("h:proposal_q", 1.0))
    focus += hand
    focus += weighted
    owners += [-1] * (len(hand) + len(weighted))
    qtext = lowered if qnorm is norm else " " + " ".join(qnorm) + " "
    question = _question_features(
        norm, qnorm, words, first, has_q, lowered, qtext, n_q, cut, n_real_q, proposal
    )
    if proposal:
        question.append(("qh:proposal", 1.0))
    if asks and not has_q:
        question.append(("qh:request", 1.0))
    return Features(norm, wscale, cscale, focus, owners, question, surface, asks)


def _is_real_question(sentence: str) -> bool:
    """True unless the sentence is only backchannel words ("Yeah?", "Oh, really?")."""
    return not _BACKCHANNEL.issuperset(_find_words(sentence.lower()))


def _question_features(
    norm: list[str],
    qnorm: list[str],
    words: list[str],
    first: list[str],
    has_q: bool,
    lowered: str,
    qtext: str,
    n_q: int,
    cut: bool,
    n_real_q: int,
    proposal: bool = False,
) -> list[tuple[str, float]]:
    """Features for none/open/closed, centred on the sentence that carries the question.

    From `extract`: `words` are the question's tokens `qnorm` without "¿", "?" and "!", `first`
    their first three after fillers; `lowered` and `qtext` are the turn's and the question's tokens
    joined by spaces, with a space either side.
    """
    feats: list[tuple[str, float]] = [("qh:bias", 1.0)]
    add = feats.append
    if has_q:
        add(("qh:has_q", 1.0))
        add(_QH_N_Q[min(n_q, 3)])
        if norm[-1] == "?":
            add(("qh:ends_q", 1.0))
        if n_real_q >= 2:
            add(("qh:multi_q", 1.0))
    else:
        add(("qh:no_q", 1.0))
    if cut:
        add(("qh:cut", 1.0))
    f1 = first[0] if first else ""
    if f1:
        add(("qf1:" + f1, 1.0))
    if len(first) >= 2:
        add((f"qf2:{first[0]} {first[1]}", 1.0))
    if len(first) >= 3:
        add((f"qf3:{first[0]} {first[1]} {first[2]}", 1.0))
    if f1 in _WH_WORDS:
        add(("qh:wh", 1.0))
    if f1 in _OPEN_STARTERS:
        add(("qh:open_starter", 1.0))
    if f1 in _AUX_WORDS:
        add(("qh:aux", 1.0))
    # Where the wh-word sits ("and so what ..." vs "... what you expected?") and how the sentence ends.
    head = _head(words)
    h0 = head[0] if head else ""
    h1 = head[1] if len(head) > 1 else ""
    mode = "q" if has_q else ("cut" if cut else "noq")
    kind = ""
    if proposal:
        kind = "proposal"  # "Why don't we ...?", "How about ...?": yes/no in function, so closed
    elif h0 in _WH_WORDS:
        kind = "wh"
        # One-fact heads (how much / how long / which / when / where / who / what time): closed.
        if (h0 == "how" and h1 in _FACT_HOW) or h0 in _FACT_WH:
            kind = "fact"
        elif h0 == "what" and h1:
            if h1 in _FACT_NOUNS:
                kind = "fact"
            elif h1 not in _WHAT_FUNCTION:
                kind = "what_noun"
    elif h0 in _AUX_WORDS:
        kind = "aux"
    elif has_q:
        kind = "decl"  # "So it wasn't what you expected?", "The budget is fixed, right?"
    if "why" in words[1:]:
        # "Which matters most, and why?" asks for the reason too: an explanation, so open.
        add(("qh:why_later", 1.0))
        if kind == "fact":
            kind = "wh"
    if kind:
        add((f"qk:{mode}_{kind}", 1.0))
        if kind in ("fact", "what_noun", "decl") and len(words) <= 8:
            add((f"qk:{mode}_{kind}_short", 1.0))
    last2 = f"{words[-2]} {words[-1]}" if len(words) >= 2 else ""
    if has_q and last2 and (words[-1] in _TAG_WORDS or last2 in _TAG_PAIRS):
        add(("qh:tag", 1.0))
    if not _WH_WORDS.isdisjoint(words):
        wh_pos = next(i for i, t in enumerate(words) if t in _WH_WORDS)
        add((f"qh:wh_at{min(wh_pos, 4)}", 1.0))
        if wh_pos + 1 < len(words):
            add((f"qwh:{words[wh_pos]} {words[wh_pos + 1]}", 1.0))
    elif has_q and f1 not in _AUX_WORDS:
        add(("qh:declarative_q", 1.0))
    if last2:
        add(("qt:" + last2, 1.0))
    if words:
        add(("qt1:" + words[-1], 1.0))
    qscale = 1.0 / (max(len(qnorm), 1) ** 0.5)
    # Words and word pairs of the question (each token with the one before it), each once.
    pairs = zip(["<s>", *qnorm], qnorm, strict=False)
    if len(set(qnorm)) == len(qnorm):
        # Distinct tokens make distinct words and pairs (tokens hold no space): nothing to dedupe.
        feats += [(f"qw:{tok}", qscale) for tok in qnorm]
        feats += [(f"qb:{prev} {tok}", qscale) for prev, tok in pairs]
    else:
        names = [f"qw:{tok}" for tok in qnorm]
        names += [f"qb:{prev} {tok}" for prev, tok in pairs]
        feats += [(name, qscale) for name in dict.fromkeys(names)]
    # _ELAB_RE has no capturing group, so findall() gives each whole match.
    elab = _ELAB_RE.findall(qtext)
    for match in elab:
        feats.append(("qe:" + match.rsplit(" ", 1)[-1], 1.0))
        feats.append(("qe:any", 1.0))
    # When the question is the whole turn, the turn-level search has the answer already.
    turn_elab = elab if qtext == lowered else _ELAB_RE.search(lowered)
    if turn_elab:
        feats.append(("qe:turn", 1.0))
        if not has_q:
            feats.append(("qe:turn_noq", 1.0))
    for pat in _OPEN_PATTERNS:
        if pat in lowered:
            feats.append(("qp:" + pat, 1.0))
    for pat in _CLOSED_PATTERNS:
        if pat in qtext:
            feats.append(("qc:" + pat.strip(), 1.0))
    feats.append(_QH_QLEN[bisect_left(_QLEN_EDGES, len(qnorm))])
    feats.append(_QH_LEN[bisect_left(_TURN_LEN_EDGES, len(norm))])
    return feats
