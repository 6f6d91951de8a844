"""Jules Verne, *The Mysterious Island*: a character-level language-modelling corpus."""

from __future__ import annotations

import re
from pathlib import Path

from seqlab.data.corpus import CorpusDataModule
from seqlab.errors import DataError

START_MARKER = "*** START OF"
END_MARKERS = ("End of the Project Gutenberg", "*** END OF")
CREDIT = "Produced by"


def book_body(raw: bytes, path: Path) -> str:
    """The book's own text: BOM and CRLF undone, Gutenberg header, credits and licence cut.

    The body starts after the ``*** START OF`` line (and the transcribers' "Produced by"
    paragraph that follows it) and ends before "End of the Project Gutenberg…" / ``*** END OF``.
    """
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text ({e}); expected Gutenberg's 1268-0.txt") from e
    start = text.find(START_MARKER)
    ends = [i for i in (text.find(m, max(start, 0)) for m in END_MARKERS) if i >= 0]
    if start < 0 or not ends:
        raise DataError(
            f"{path}: no Project Gutenberg '{START_MARKER} …' / '*** END OF …' markers; "
            "expected the Gutenberg edition 1268-0.txt. Delete it and re-run to download it."
        )
    body = text[text.index("\n", start) + 1 : min(ends)].strip()
    if body.startswith(CREDIT):
        body = body.split("\n\n", 1)[-1].strip()
    return body


class VerneDataModule(CorpusDataModule):
    """The book's body (`book_body`) as a character corpus: contiguous 90 / 5 / 5 % ranges.

    Training reads the range as ``batch_size`` parallel streams (``train_order="streams"``, for
    truncated BPTT) or as independent windows every ``train_stride`` characters, shuffled
    (``"shuffle"``, the reference recipe); see `CorpusDataModule` for the rest.
    """

    data_name = "verne"
    default_prompt = "The island"
    longer = ""

    def locate(self) -> Path:
        return self.fetch("verne")

    def text(self, path: Path) -> str:
        return book_body(path.read_bytes(), path)


PART = re.compile(r"^PART (\d)\b.*$", re.MULTILINE)


def paragraphs_by_part(body: str, min_words: int = 20) -> list[tuple[str, str]]:
    """The book's paragraphs of at least ``min_words`` words, each with the part it comes from
    (``part 1`` … ``part 3``): a real three-class text-classification set
    (``scripts/verne_parts.py``)."""
    marks = list(PART.finditer(body))
    rows = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else len(body)
        for paragraph in re.split(r"\n\s*\n", body[mark.end() : end]):
            text = " ".join(paragraph.split())
            if len(text.split()) >= min_words:
                rows.append((text, f"part {mark.group(1)}"))
    return rows
