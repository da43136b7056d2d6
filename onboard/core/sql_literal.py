"""A Python string as a SQL text literal (single quotes doubled), for the SQL onboard writes."""


def quote_literal(value: str) -> str:
    """'value', with every single quote doubled: safe inside any SQL statement."""
    return "'" + value.replace("'", "''") + "'"
