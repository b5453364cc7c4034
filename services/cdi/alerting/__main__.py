"""python -m cdi.alerting [--config FILE] [OUT_DIR]: render the Prometheus rules from their config."""

from __future__ import annotations

import argparse
import sys

from . import DEFAULT_CONFIG, DEFAULT_OUT_DIR, AlertingConfigError, generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m cdi.alerting",
        description=(
            "Generate the CDI Prometheus rules (recording, alert and workbench rules) from one config. "
            "Run from the repository root with no arguments to regenerate the committed files."
        ),
    )
    parser.add_argument(
        "out_dir", nargs="?", default=str(DEFAULT_OUT_DIR), help=f"directory to write into (default {DEFAULT_OUT_DIR})"
    )
    parser.add_argument(
        "--config", default=str(DEFAULT_CONFIG), help=f"the rules' config, TOML (default {DEFAULT_CONFIG})"
    )
    args = parser.parse_args(argv)
    try:
        written = generate(args.config, args.out_dir)
    except AlertingConfigError as exc:
        print(f"python -m cdi.alerting: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
