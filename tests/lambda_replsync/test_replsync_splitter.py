"""The SQL statement splitter: examples and a property test."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from replsync.splitter import MYSQL, POSTGRES, SplitOptions, split_statements


def pg(sql: str) -> list[str]:
    return split_statements(sql, POSTGRES)


def my(sql: str) -> list[str]:
    return split_statements(sql, MYSQL)


def test_plain_statements_and_trailing_text() -> None:
    assert pg("SELECT 1; SELECT 2;\n\n") == ["SELECT 1", "SELECT 2"]
    assert pg("SELECT 1;SELECT 2") == ["SELECT 1", "SELECT 2"]
    assert pg(" ;; ;") == []


def test_semicolons_inside_quotes() -> None:
    sql = "INSERT INTO t VALUES ('a;b', 'it''s;'); SELECT \"odd;name\" FROM t"
    assert pg(sql) == ["INSERT INTO t VALUES ('a;b', 'it''s;')", 'SELECT "odd;name" FROM t']
    assert my("SELECT `we;ird` FROM t; SELECT 1") == ["SELECT `we;ird` FROM t", "SELECT 1"]


def test_comments() -> None:
    sql = "-- lead; comment\nSELECT 1; /* block; */ SELECT 2 -- tail;\n; -- only a comment;"
    assert pg(sql) == ["-- lead; comment\nSELECT 1", "/* block; */ SELECT 2 -- tail;"]
    assert pg("/* outer /* inner; */ still; */ SELECT 1; SELECT 2") == [
        "/* outer /* inner; */ still; */ SELECT 1",
        "SELECT 2",
    ]
    # MySQL comments do not nest; '#' is a comment; '--' needs a space after it.
    assert my("/* a /* b */ SELECT 1; # x; y\nSELECT 2") == [
        "/* a /* b */ SELECT 1",
        "# x; y\nSELECT 2",
    ]
    assert my("SELECT 5--1; SELECT 2") == ["SELECT 5--1", "SELECT 2"]
    assert pg("SELECT 5 # 1; SELECT 2") == ["SELECT 5 # 1", "SELECT 2"]


def test_dollar_quoting() -> None:
    body = "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql"
    tagged = "DO $fn$ BEGIN PERFORM 'x;$$'; END $fn$"
    assert pg(f"{body}; {tagged}; SELECT $1") == [body, tagged, "SELECT $1"]
    assert pg("SELECT a$b$c FROM t; SELECT 2") == ["SELECT a$b$c FROM t", "SELECT 2"]
    # MySQL has no dollar quotes: $$ is ordinary text there.
    assert my("SELECT '$$'; SELECT $$;") == ["SELECT '$$'", "SELECT $$"]


def test_backslash_escapes() -> None:
    # MySQL: \' does not end the string.
    assert my(r"INSERT INTO t VALUES ('it\'s; fine', 'c:\\'); SELECT 2") == [
        r"INSERT INTO t VALUES ('it\'s; fine', 'c:\\')",
        "SELECT 2",
    ]
    # PostgreSQL standard strings: backslash is literal, so 'c:\' ends at the quote.
    assert pg(r"SELECT 'c:\'; SELECT 2") == [r"SELECT 'c:\'", "SELECT 2"]
    # ... but E'' strings honour backslash escapes.
    assert pg(r"SELECT E'it\'s; ok'; SELECT 2") == [r"SELECT E'it\'s; ok'", "SELECT 2"]
    assert pg(r"SELECT type'x\'; SELECT 2") == [r"SELECT type'x\'", "SELECT 2"]


def test_mysql_delimiter_command() -> None:
    sql = (
        "CREATE TABLE t (a INT);\nDELIMITER //\nCREATE TRIGGER x BEFORE INSERT ON t "
        "FOR EACH ROW BEGIN SET NEW.a = 1; END//\nDELIMITER ;\nINSERT INTO t VALUES (1);"
    )
    assert my(sql) == [
        "CREATE TABLE t (a INT)",
        "CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END",
        "INSERT INTO t VALUES (1)",
    ]


def test_unterminated_literal_keeps_the_rest() -> None:
    assert pg("SELECT 'open; SELECT 2") == ["SELECT 'open; SELECT 2"]


# ---------------------------------------------------------------------------- property

TEXT = st.text(alphabet=st.sampled_from(list("ab ;'\"`\\$/*-#\n\tx")), max_size=12)
WORD = st.sampled_from(["SELECT", "x", "1", "t.col", "(a, b)", "=", "+", "foo_bar"])


def quoted(quote: str, backslashes: bool) -> st.SearchStrategy[str]:
    """A literal holding random text; with backslash escapes the quote is written either
    doubled or as backslash-quote."""

    def escape(text: str, backslash_quote: bool) -> str:
        if not backslashes:
            return quote + text.replace(quote, quote * 2) + quote
        text = text.replace("\\", "\\\\")
        return quote + text.replace(quote, ("\\" if backslash_quote else quote) + quote) + quote

    return st.tuples(TEXT, st.booleans()).map(lambda p: escape(*p))


def dollar() -> st.SearchStrategy[str]:
    def wrap(tag: str, body: str) -> str:
        while f"${tag}$" in body:  # the body must not contain its own closing tag
            body = body.replace(f"${tag}$", "")
        return f"${tag}${body}${tag}$"

    return st.tuples(st.sampled_from(["", "fn", "body_1"]), TEXT).map(lambda p: wrap(*p))


def comments(mysql: bool) -> st.SearchStrategy[str]:
    line = TEXT.map(lambda t: "-- " + t.replace("\n", " ") + "\n")
    block = TEXT.map(lambda t: "/* " + t.replace("*", "") + " */")
    out = line | block
    if mysql:
        out |= TEXT.map(lambda t: "# " + t.replace("\n", " ") + "\n")
    return out


def statements(options: SplitOptions) -> st.SearchStrategy[list[str]]:
    mysql = options.backslash_escapes
    fragment = (
        WORD
        | quoted("'", mysql)
        | quoted('"', mysql)
        | comments(mysql)
        | (quoted("`", False) if mysql else dollar())
    )
    # Start and end with a word: a statement is never only comments.
    statement = st.tuples(WORD, st.lists(fragment, max_size=6), WORD).map(
        lambda p: " ".join([p[0], *p[1], p[2]])
    )
    return st.lists(statement, min_size=1, max_size=5)


SEPARATORS = st.sampled_from(["", " ", "\n", "\n-- trailing; comment\n", " /* c; */ "])


def roundtrip(options: SplitOptions, stmts: list[str], sep: str) -> None:
    script = "".join(s + sep + ";\n" for s in stmts)
    assert split_statements(script, options) == [(s + sep).strip() for s in stmts]


@settings(max_examples=300, deadline=None)
@given(stmts=statements(POSTGRES), sep=SEPARATORS)
def test_property_postgres_split_recovers_statements(stmts: list[str], sep: str) -> None:
    roundtrip(POSTGRES, stmts, sep)


@settings(max_examples=300, deadline=None)
@given(stmts=statements(MYSQL), sep=SEPARATORS)
def test_property_mysql_split_recovers_statements(stmts: list[str], sep: str) -> None:
    roundtrip(MYSQL, stmts, sep)
