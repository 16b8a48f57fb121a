"""Say plainly, before any test runs, whether the real servers the suite needs are there."""

from __future__ import annotations

import sys

from tests.support.services import require_postgres, require_redis


def main() -> int:
    problems = []
    for require in (require_postgres, require_redis):
        try:
            require()
        except RuntimeError as exc:
            problems.append(str(exc))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
