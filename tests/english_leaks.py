"""Finding English left in what the lab shows a learner who reads Vietnamese.

A word-list heuristic: a stretch of text holding two or more common English words (the, is,
of, your…) is an English sentence, unless it is one of the names and messages AWS itself
writes in English, which the lab quotes as they are (a learner searches the web for them).
"""

from __future__ import annotations

import re

ENGLISH_WORDS = frozenset(
    [
        "the",
        "is",
        "are",
        "was",
        "were",
        "and",
        "of",
        "to",
        "with",
        "your",
        "you",
        "this",
        "that",
        "these",
        "those",
        "not",
        "for",
        "at",
        "be",
        "it",
        "its",
        "has",
        "have",
        "can",
        "will",
        "from",
        "by",
        "there",
        "which",
        "when",
        "what",
        "please",
        "should",
        "would",
        "must",
        "been",
        "into",
        "then",
        "than",
        "only",
        "also",
        "does",
        "did",
        "here",
        "line",
        "column",
        "expecting",
        "value",
        "delimiter",
        "property",
        "enclosed",
        "double",
        "quotes",
        "unterminated",
        "starting",
        "extra",
        "data",
        "invalid",
    ]
)
# What AWS writes in English, quoted by the lab as AWS writes it (a learner searches the web
# for these): each one's source is named where the catalogue or the lab quotes it.
AWS_WORDING = tuple(
    re.compile(pattern)
    for pattern in (
        re.escape("Task timed out after 15.00 seconds"),
        re.escape(
            "The provided execution role does not have permissions to call "
            "CreateNetworkInterface on EC2"
        ),
        re.escape("Endpoint request timed out"),
        re.escape(
            "Execution failed due to configuration error: Invalid permissions on Lambda function"
        ),
        # DynamoDB's ValidationException for a key that does not fit the table (GetItem…)
        re.escape("The provided key element does not match the schema"),
        # IAM's access-denied message ("Access denied error messages", IAM User Guide):
        # "User: <arn> is not authorized to perform: <action> on resource: <arn> because …"
        r"User: \S+ is not authorized to perform: \S+ on resource: \S+"
        r"( because no [\w -]+ allows the \S+ action| with an explicit deny in an? [\w -]+)?",
    )
)
# Whole words: "toán" is Vietnamese, not "to" followed by something.
WORD = re.compile(r"\w+")
# A stretch ends at a sentence's end, a line break, a quote or a bracket: English inside
# one sentence of Vietnamese ("(Expecting value ở dòng 1)") is caught on its own.
STRETCH = re.compile(r"[^.!?;:\n\"“”()\[\]]+")


def english_sentences(text: str) -> list[str]:
    """The stretches of ``text`` that read as English."""
    for wording in AWS_WORDING:
        text = wording.sub(" ", text)
    found = []
    for stretch in STRETCH.findall(text):
        words = [word.lower() for word in WORD.findall(stretch) if word.isascii()]
        if sum(word in ENGLISH_WORDS for word in words) >= 2:
            found.append(stretch.strip())
    return found
