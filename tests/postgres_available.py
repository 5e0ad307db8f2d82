"""Exits 0 when the PostgreSQL URL given answers, 1 otherwise (used by `make test`)."""

import sys

import sqlalchemy


def main(url: str) -> int:
    try:
        engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
        engine.dispose()
        return 0
    except Exception:
        return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
