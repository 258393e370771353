"""`python -m booking.bench offers|simulate|load …`: each prints its figures, the last line
being the summary with fixed keys."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    commands = {
        "offers": "booking.bench.offers",
        "simulate": "booking.bench.simulate",
        "load": "booking.bench.load",
    }
    if not args or args[0] not in commands:
        print(f"usage: python -m booking.bench {{{','.join(commands)}}} [options]", file=sys.stderr)
        return 2
    module = __import__(commands[args[0]], fromlist=["main"])
    return int(module.main(args[1:]))


if __name__ == "__main__":
    sys.exit(main())
