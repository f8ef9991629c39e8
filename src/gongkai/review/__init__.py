"""Review: the work around a checked report, in the corpus.

Every rule's outcome stored per report (passed, failed, uncertain, not assessable); reviewers'
decisions kept by the outcome's fingerprint across re-parsing; corrections with their history;
one filing per body and year whose versions (a web page and its PDF) count once; the tree of
bodies with their GB/T 2260 regions and the parent-against-children rules; the review letter
(审核意见) and the region summary; submission states gated by the checks.

Every operation is a plain function taking a SQLAlchemy connection and plain arguments and
returning plain data (dicts, lists, bytes), for the CLI and the web workbench alike. Functions
that write expect a transaction (`engine.begin()`); errors for people are ReviewError.
"""

from gongkai.review.common import ReviewError

__all__ = ["ReviewError"]
