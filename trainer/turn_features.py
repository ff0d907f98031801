"""Feature extraction for the per-turn classifier, shared by training and inference.

Kept in one pure-Python module so the features the weights were trained on can never drift from
the features computed at run time. No numpy here: inference must stay dependency-free and fast.
"""

from __future__ import annotations

import functools
import hashlib
import re
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


_TOKEN_RE = re.compile(r"\w+(?:['’]\w+)*|[?¿$€£%!]", re.UNICODE)
_WORD_RE = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
_SENT_SPLIT_RE = re.compile(r"(?<=[.!?…])\s+|\n+")
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
# Question openers that propose or push rather than ask about the counterpart ("why don't we ...").
_PROPOSAL_START_RE = re.compile(
    r"^(?:(?:so|and|but|okay|ok|well|now|then)\s+)*(?:why don't we|why not|how about|what if|wouldn't|"
    r"isn't it|isn't that|don't you|can we|could we|shall we|should we|can i|could i|shall i|may i|"
    r"are you ready|ready to|would you like|do you want|want me|want the|have you seen|did you see|"
    r"have you heard|did you know|can you imagine|podemos|pouvons nous|können wir|possiamo)"
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


def _clean(text: str) -> str:
    """Drop transcript annotations, unify apostrophes and cut overlong turns to head + tail."""
    if len(text) > MAX_CHARS:
        text = text[:_HEAD_CHARS] + " " + text[-(MAX_CHARS - _HEAD_CHARS) :]
    text = _BRACKET_RE.sub(" ", text)
    return text.replace("’", "'").replace("‘", "'").replace("？", "?").replace("¿", " ¿ ").strip()


def _tokens(text: str) -> tuple[list[str], list[str]]:
    """Return (surface tokens, normalised tokens): lowercase, digits folded to 0."""
    surface = _TOKEN_RE.findall(text)
    norm = _TOKEN_RE.findall(_DIGIT_RE.sub("0", text.lower().replace("’", "'")))
    if len(norm) != len(surface):  # rare Unicode case changes that alter token boundaries
        norm = [_DIGIT_RE.sub("0", t.lower().replace("’", "'")) for t in surface]
    # Unspaced scripts and junk can make one giant "word"; its head is enough.
    return surface, [t if len(t) <= _MAX_TOKEN else t[:_MAX_TOKEN] for t in norm]


def _sentences(text: str) -> list[str]:
    parts = [s.strip(" -—–\t") for s in _SENT_SPLIT_RE.split(text)]
    return [s for s in parts if s]


def _bucket(n: int, edges: tuple[int, ...]) -> int:
    for i, edge in enumerate(edges):
        if n <= edge:
            return i
    return len(edges)


def _question_sentence(sentences: list[str]) -> tuple[str, bool]:
    """The sentence that carries the turn's question (the last one with '?'), and whether one exists.

    A turn like "Thanks. What keeps you up at night?" is counted by its question, so the question
    features look at that sentence; without a '?', fall back to the last sentence.
    """
    for sent in reversed(sentences):
        if "?" in sent:
            return sent, True
    return (sentences[-1] if sentences else ""), False


def _first_words(norm: list[str], n: int) -> list[str]:
    words = [t for t in norm if t not in ("¿", "?", "!")]
    fillers = {"so", "and", "um", "uh", "well", "okay", "ok", "now", "but", "alright", "right", "yeah", "oh"}
    while len(words) > 1 and words[0] in fillers:
        words = words[1:]
    return words[:n]


def extract(text: str | None, context: str | None = None) -> Features:
    """Compute focus and question features for one trainee turn and the counterpart line before it."""
    raw = _clean(text or "")
    surface, norm = _tokens(raw)
    focus: list[tuple[str, float]] = []
    owners: list[int] = []

    def add(name: str, value: float = 1.0, owner: int = -1) -> None:
        focus.append((name, value))
        owners.append(owner)

    n = len(norm)
    add(f"h:bias_len{_bucket(n, (0, 1, 3, 7, 15, 30, 60))}")
    if n == 0:
        return Features(norm, 0.0, 0.0, focus, owners, [("qh:empty", 1.0)], surface, False)

    # Word unigrams (implicit, see Features) and bigrams, scaled so long turns do not dominate by
    # sheer count; character n-grams (3-4) add morphology and some robustness to other languages.
    wscale = 1.0 / (n**0.5)
    n_grams = sum(len(token_grams(tok)) for tok in norm)
    cscale = 1.0 / (n_grams**0.5) if n_grams else 0.0
    prev = "<s>"
    for i, tok in enumerate(norm):
        focus.append(("b:" + prev + " " + tok, wscale))
        owners.append(i)
        prev = tok

    lowered = " " + " ".join(norm) + " "
    sentences = _sentences(raw)
    qsent, has_q = _question_sentence(sentences)
    _, qnorm = _tokens(qsent)
    first = _first_words(qnorm, 3)
    f1 = first[0] if first else ""
    n_q = norm.count("?")

    # Hand-made features that generalise across corpora.
    if n_q:
        add("h:has_q")
        add(f"h:n_q{min(n_q, 3)}")
        if norm[-1] == "?":
            add("h:ends_q")
    if has_q or f1 in _WH_WORDS or f1 in _AUX_WORDS:
        if f1 in _WH_WORDS:
            add("h:q_wh")
        elif f1 in _AUX_WORDS:
            add("h:q_aux")
        if first:
            add("qf:" + " ".join(first[:2]))
    n_you = n_we = n_i = n_prod = 0
    for i, t in enumerate(norm):
        if t in _YOU_WORDS:
            n_you += 1
        elif t in _WE_WORDS:
            n_we += 1
        elif t in _I_WORDS:
            n_i += 1
        if t in _PRODUCT_WORDS:
            n_prod += 1
            add("h:product", 1.0, i)
        if t in _COMMIT_WORDS:
            add("h:commit", 1.0, i)
    add(f"h:you{min(n_you, 3)}")
    add(f"h:we{min(n_we, 3)}")
    add(f"h:i{min(n_i, 3)}")
    if n_you > n_we + n_i:
        add("h:you_dominant")
    elif n_we + n_i > n_you:
        add("h:self_dominant")
    if n_prod >= 2:
        add("h:product_many")
    if _ADVICE_RE.search(lowered):
        add("h:advice")
    if _REFLECT_RE.search(lowered):
        add("h:reflect")
    if _DIGIT_RE.search(raw) or "%" in norm or "$" in norm or "€" in norm:
        add("h:number")
    if not has_q and norm[0] in ("so", "sounds", "it", "you", "you're"):
        add("h:statement_start_" + norm[0])

    # The counterpart's line: whether they asked something, and how much of it the turn echoes back.
    ctx_raw = _clean(context or "")
    if ctx_raw:
        # The end of a long counterpart line is what the turn answers.
        ctx_norm = _tokens(ctx_raw)[1][-_MAX_CONTEXT_TOKENS:]
        if "?" in ctx_norm:
            add("h:ctx_q")
        ctx_content = {t for t in ctx_norm if t not in _STOPWORDS and len(t) > 2}
        mine = {t for t in norm if t not in _STOPWORDS and len(t) > 2}
        if mine:
            overlap = len(mine & ctx_content) / len(mine)
            add(f"h:ctx_overlap{_bucket(int(overlap * 10), (0, 1, 3, 5))}")
        add(f"h:ctx_len{_bucket(len(ctx_norm), (3, 10, 30))}")
        xs = 0.5 / (max(len(ctx_norm), 1) ** 0.5)
        for t in dict.fromkeys(ctx_norm):
            add("x:" + t, xs)
    else:
        add("h:no_ctx")

    asks = any(
        _is_real_question(sent) if "?" in sent else bool(_REQUEST_START_RE.match(sent.lower()))
        for sent in sentences
    )
    proposal = has_q and bool(_PROPOSAL_START_RE.match(" ".join(t for t in qnorm if t not in ("¿", "?"))))
    if proposal:
        add("h:proposal_q")
    question = _question_features(norm, qnorm, has_q, first, lowered, n_q)
    if proposal:
        question.append(("qh:proposal", 1.0))
    if asks and not has_q:
        question.append(("qh:request", 1.0))
    return Features(norm, wscale, cscale, focus, owners, question, surface, asks)


def _is_real_question(sentence: str) -> bool:
    """True unless the sentence is only backchannel words ("Yeah?", "Oh, really?")."""
    return any(t not in _BACKCHANNEL for t in _WORD_RE.findall(sentence.lower()))


def _question_features(
    norm: list[str], qnorm: list[str], has_q: bool, first: list[str], lowered: str, n_q: int
) -> list[tuple[str, float]]:
    """Features for none/open/closed, centred on the sentence that carries the question."""
    feats: list[tuple[str, float]] = [("qh:bias", 1.0)]
    if has_q:
        feats.append(("qh:has_q", 1.0))
        feats.append((f"qh:n_q{min(n_q, 3)}", 1.0))
        if norm[-1] == "?":
            feats.append(("qh:ends_q", 1.0))
    else:
        feats.append(("qh:no_q", 1.0))
    f1 = first[0] if first else ""
    if f1:
        feats.append(("qf1:" + f1, 1.0))
    if len(first) >= 2:
        feats.append(("qf2:" + " ".join(first[:2]), 1.0))
    if len(first) >= 3:
        feats.append(("qf3:" + " ".join(first[:3]), 1.0))
    if f1 in _WH_WORDS:
        feats.append(("qh:wh", 1.0))
    if f1 in _OPEN_STARTERS:
        feats.append(("qh:open_starter", 1.0))
    if f1 in _AUX_WORDS:
        feats.append(("qh:aux", 1.0))
    # Where the wh-word sits ("and so what ..." vs "... what you expected?") and how the sentence ends.
    words = [t for t in qnorm if t not in ("¿", "?", "!")]
    wh_pos = next((i for i, t in enumerate(words) if t in _WH_WORDS), -1)
    if wh_pos >= 0:
        feats.append((f"qh:wh_at{min(wh_pos, 4)}", 1.0))
        if wh_pos + 1 < len(words):
            feats.append(("qwh:" + words[wh_pos] + " " + words[wh_pos + 1], 1.0))
    elif has_q and f1 not in _AUX_WORDS:
        feats.append(("qh:declarative_q", 1.0))
    if len(words) >= 2:
        feats.append(("qt:" + " ".join(words[-2:]), 1.0))
    if words:
        feats.append(("qt1:" + words[-1], 1.0))
    qscale = 1.0 / (max(len(qnorm), 1) ** 0.5)
    seen: set[str] = set()
    prev = "<s>"
    for tok in qnorm:
        for key in ("qw:" + tok, "qb:" + prev + " " + tok):
            if key not in seen:
                seen.add(key)
                feats.append((key, qscale))
        prev = tok
    qtext = " " + " ".join(qnorm) + " "
    for match in _ELAB_RE.finditer(qtext):
        feats.append(("qe:" + match.group(0).rsplit(" ", 1)[-1], 1.0))
        feats.append(("qe:any", 1.0))
    if _ELAB_RE.search(lowered):
        feats.append(("qe:turn", 1.0))
    for pat in _OPEN_PATTERNS:
        if pat in lowered:
            feats.append(("qp:" + pat, 1.0))
    for pat in _CLOSED_PATTERNS:
        if pat in qtext:
            feats.append(("qc:" + pat.strip(), 1.0))
    feats.append((f"qh:qlen{_bucket(len(qnorm), (2, 4, 7, 12, 20))}", 1.0))
    feats.append((f"qh:len{_bucket(len(norm), (1, 3, 7, 15, 30, 60))}", 1.0))
    return feats
