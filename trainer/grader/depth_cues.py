"""Hand-made cues for what a turn probes: phrases that mark each depth, given to the depth model as features
beside its word n-grams (they decide nothing alone).

Why: word n-grams learn one author's words; these families ("what happens if", "knock-on", "at stake",
"look like", "what's behind") carry across authors (leave-one-author-out CV, `training/train_depth.py
--by-author`). The weights were trained on exactly these patterns: retrain after editing them. The same
cues on the executive's line before added nothing there and tipped "What's on your plate this quarter?"
after a line with "who" in it into a personal question, so they are not used.
"""

from __future__ import annotations

import re

# Matched against the turn's normalised tokens joined by single spaces ("what's", "don't" stay one token).
_CUES: dict[str, str] = {
    "implication": (
        r"what happens if|if nothing changes|if (?:you|we|they|it) (?:don't|doesn't|can't|miss|slip)"
        r"|if that slips|cost(?:s|ing)? (?:you|the|them|us)|knock on|ripple|downstream|who else"
        r"|what else (?:does|would|will)|impact|affect|effect on|\bhit\b|\blos(?:e|es|ing|t)\b|at risk"
        r"|consequence|worst case|how much (?:does|is|would) (?:that|it)|what does that do to|compound"
        r"|pressure on|price of|\bdelay|\bmean for (?:the|your team|them|the business|the stores|the company)"
        r"|then what|and then\b"
    ),
    "outcome": (
        r"success|look like|ideal|dream|magic wand|make possible|free(?:s|d)? up"
        r"|if (?:that|it|this) (?:went|goes|worked|works|landed|lands)|if you (?:got|get|had|could)"
        r"|once (?:this|that|it) is|when (?:this|that|it)(?:'s| is) (?:solved|fixed|done|sorted)"
        r"|where would you like|what would good|best case|\bwin\b|\bgoal|\baim|\bhop(?:e|ing)|able to"
        r"|picture|imagine|end state|in (?:a|one|two) years?|by next (?:year|spring|summer|autumn|winter)"
        r"|would you (?:like|want|love)|better look|what would (?:change|be different)"
    ),
    "personal": (
        r"you personally|personally|for you\b|your own|yourself|your career|your role|your name"
        r"|your reputation|your job|your bonus|your renewal|legacy|proud|\bsleep|worr(?:y|ies|ied) you"
        r"|keep(?:s)? you up|on the line|at stake|stake for you|between us|you want to be known|mean to you"
        r"|\byou feel|how do you feel|how does that feel|next move|your seat|your future|in it for you"
        r"|your standing|your credibility"
    ),
    "problem": (
        r"\bwhy\b|what's behind|what is behind|driving|\bhard(?:est)?\b|difficult|struggl|challeng"
        r"|frustrat|problem|\bissue|wrong|broke|\broot|\bcause|what changed|stuck|bottleneck|\bpain|worse"
        r"|in the way|block|what's getting|what gets|go(?:es|ing)? wrong|keeps? happening"
        r"|where does it (?:break|fall)"
    ),
    "situation": (
        r"how many|how often|currently|today|at the moment|right now|who owns|who signs|who decides"
        r"|\bwhich\b|set up|how does (?:it|that) work|\bprocess|walk me through|what do you use|how long"
        r"|how big|how is (?:it|that|the team) (?:run|organised|organized|structured)|\bwho\b|\bwhen\b"
        r"|\bwhere\b|how much"
    ),
}
_PATTERNS = tuple((name, re.compile(pattern)) for name, pattern in _CUES.items())


def depth_cues(norm: list[str]) -> list[tuple[str, float]]:
    """One feature per depth whose cues the turn's tokens hold, and a second when they hold two or more."""
    joined = " " + " ".join(norm) + " "
    out: list[tuple[str, float]] = []
    for name, pattern in _PATTERNS:
        hits = pattern.findall(joined)
        if hits:
            out.append(("dc:" + name, 1.0))
            if len(hits) > 1:
                out.append(("dc:" + name + "2", 1.0))
    return out
