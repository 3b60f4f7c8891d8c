"""Split a SQL script into statements, the way the engines' own clients do.

A ``;`` ends a statement only outside string literals, quoted identifiers, comments and (on
PostgreSQL) dollar-quoted bodies. MySQL specifics: backslash escapes in quotes, ``#`` and
``-- `` comments, backticks and the client-side ``DELIMITER`` command (needed for triggers and
procedures). PostgreSQL specifics: ``$tag$...$tag$``, ``E'...'`` escapes, nested ``/* */``.

Not handled: PostgreSQL ``BEGIN ATOMIC ... END`` function bodies (use a dollar-quoted body).
Comment-only pieces are dropped (MySQL rejects an empty query); comments inside a statement
are kept because MySQL ``/*! ... */`` comments are executable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SplitOptions:
    backslash_escapes: bool = False  # MySQL: \ escapes the next char inside '...' and "..."
    backticks: bool = False  # MySQL: `identifier`
    hash_comments: bool = False  # MySQL: # to end of line
    dash_comment_needs_space: bool = False  # MySQL: "--" is a comment only before whitespace
    delimiter_command: bool = False  # MySQL client: DELIMITER // ... //
    dollar_quotes: bool = False  # PostgreSQL: $tag$ ... $tag$
    escape_strings: bool = False  # PostgreSQL: E'...' honours backslash escapes
    nested_comments: bool = False  # PostgreSQL: /* /* */ */ nests


MYSQL = SplitOptions(
    backslash_escapes=True,
    backticks=True,
    hash_comments=True,
    dash_comment_needs_space=True,
    delimiter_command=True,
)
POSTGRES = SplitOptions(dollar_quotes=True, escape_strings=True, nested_comments=True)

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$")
_DELIMITER = re.compile(r"DELIMITER[ \t]+(\S+)[^\n]*(?:\n|$)", re.IGNORECASE)
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$\u0080-\uffff]")


def split_statements(sql: str, options: SplitOptions) -> list[str]:
    """Return the statements of ``sql`` without their terminators, stripped."""
    return _Scanner(sql, options).run()


class _Scanner:
    def __init__(self, sql: str, options: SplitOptions) -> None:
        self.sql = sql
        self.opt = options
        self.delimiter = ";"
        self.statements: list[str] = []
        self.start = 0  # where the current statement began
        self.has_code = False  # the current piece holds more than whitespace and comments

    def run(self) -> list[str]:
        i, n = 0, len(self.sql)
        while i < n:
            i = self.step(i)
        self.finish(n)
        return self.statements

    def step(self, i: int) -> int:
        sql, ch = self.sql, self.sql[i]
        if ch.isspace():
            return i + 1
        if not self.has_code and self.opt.delimiter_command and self.at_line_start(i):
            match = _DELIMITER.match(sql, i)
            if match:
                self.delimiter = match.group(1)
                self.start = match.end()
                return match.end()
        if sql.startswith(self.delimiter, i):
            self.finish(i)
            self.start = i + len(self.delimiter)
            return self.start
        comment_end = self.comment_end(i)
        if comment_end is not None:
            return comment_end
        self.has_code = True
        return self.token_end(i)

    def at_line_start(self, i: int) -> bool:
        line_start = self.sql.rfind("\n", 0, i) + 1
        return self.sql[line_start:i].strip() == ""

    def finish(self, end: int) -> None:
        if self.has_code:
            self.statements.append(self.sql[self.start : end].strip())
        self.has_code = False

    # ------------------------------------------------------------------ comments

    def comment_end(self, i: int) -> int | None:
        sql = self.sql
        if sql.startswith("--", i) and self.dash_comment_at(i):
            return self.line_end(i)
        if self.opt.hash_comments and sql[i] == "#":
            return self.line_end(i)
        if sql.startswith("/*", i):
            return self.block_comment_end(i)
        return None

    def dash_comment_at(self, i: int) -> bool:
        if not self.opt.dash_comment_needs_space:
            return True
        nxt = self.sql[i + 2 : i + 3]
        return nxt == "" or nxt.isspace() or ord(nxt) < 32

    def line_end(self, i: int) -> int:
        end = self.sql.find("\n", i)
        return len(self.sql) if end < 0 else end + 1

    def block_comment_end(self, i: int) -> int:
        sql, depth, j = self.sql, 1, i + 2
        while j < len(sql):
            if sql.startswith("*/", j):
                depth -= 1
                j += 2
                if depth == 0:
                    return j
            elif self.opt.nested_comments and sql.startswith("/*", j):
                depth += 1
                j += 2
            else:
                j += 1
        return len(sql)  # unterminated: the server will report it

    # ------------------------------------------------------------------ literals

    def token_end(self, i: int) -> int:
        sql, ch = self.sql, self.sql[i]
        if ch == "'":
            return self.quoted_end(i, "'", self.opt.backslash_escapes or self.e_string(i))
        if ch == '"':
            return self.quoted_end(i, '"', self.opt.backslash_escapes)
        if ch == "`" and self.opt.backticks:
            return self.quoted_end(i, "`", False)
        if ch == "$" and self.opt.dollar_quotes and not self.in_identifier(i):
            match = _DOLLAR_TAG.match(sql, i)
            if match:
                close = sql.find(match.group(0), match.end())
                return len(sql) if close < 0 else close + len(match.group(0))
        return i + 1

    def e_string(self, i: int) -> bool:
        """``E'...'`` (PostgreSQL): the E must be a token of its own, not an identifier's end."""
        return (
            self.opt.escape_strings
            and i > 0
            and self.sql[i - 1] in "eE"
            and not self.in_identifier(i - 1)
        )

    def in_identifier(self, i: int) -> bool:
        return i > 0 and bool(_IDENT_CHAR.match(self.sql[i - 1]))

    def quoted_end(self, i: int, quote: str, backslashes: bool) -> int:
        sql, j = self.sql, i + 1
        while j < len(sql):
            ch = sql[j]
            if backslashes and ch == "\\":
                j += 2
            elif ch == quote:
                if sql.startswith(quote, j + 1):  # doubled quote = literal quote
                    j += 2
                else:
                    return j + 1
            else:
                j += 1
        return len(sql)
