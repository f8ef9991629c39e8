"""What the text of a report states, as data: the subjects its figures are about, the words that name
them, and the cells (or sums of cells) each may mean. Read by gongkai.check.narrative.

A subject may have several accepted readings (受理 counts the new applications, or the new ones and
those carried over): a statement passes when one of them fits the tables.
"""

from __future__ import annotations

from gongkai.formats.schema import Strict as _Strict


class Reading(_Strict):
    """One meaning of a subject: the cells its figure counts (terms in the rules' syntax, summed)."""

    name: str  # how an outcome names the reading that fitted: 本年新收 + 上年结转
    terms: tuple[str, ...]


class AllOf(_Strict):
    """A statement about all of a subject (`均获维持`): these cells then hold the subject's whole figure."""

    words: str  # regex after the all-word: 维持
    name: str  # 结果维持
    terms: tuple[str, ...]


class Subject(_Strict):
    key: str
    name: str  # for messages: 收到申请
    rule: str  # the rule (kind narrative) its statements are checked under
    words: str  # regex naming the subject in a sentence
    # Regex the sentence (or the one before it) must contain for the words to mean this subject
    # (予以公开 is about applications only where 申请 is in sight).
    context: str | None = None
    readings: tuple[Reading, ...] = ()
    # A part of another statement's figure in these columns (自然人 of 收到申请 749 件): its readings
    # are the whole's, in these columns of the same rows.
    columns: tuple[str, ...] = ()
    # The figure may add to the statement before it of this subject (收到 18 件，市转交 2 件).
    joins: str | None = None
    all_of: tuple[AllOf, ...] = ()


class Statements(_Strict):
    """How the format's sections state figures."""

    sections: tuple[str, ...]  # the sections whose statements are this year's figures
    units: str  # regex of the units a count is stated in: 件|个|…
    all_words: str  # 均|全部: what comes before an AllOf's words
    none_words: str  # 未发生|没有: before a subject stated to be none
    parts_words: str  # 其中|含|包括: the figures after it are parts of the one before
    sum_words: str  # 及|和|、: subjects joined into one figure
    approximate_before: str  # 近|约|超过: the figure is not exact
    approximate_after: str  # 余|多|以上
    # A figure with these words before it in its clause is not this year's total (同比增加 12 件,
    # 1月份收到 3 件).
    not_the_figure: str
    subjects: tuple[Subject, ...]
