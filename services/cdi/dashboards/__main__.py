"""python -m cdi.dashboards OUT_DIR: write the dashboards' JSON into OUT_DIR."""

from __future__ import annotations

import argparse

from . import REGENERATE_COMMAND, generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m cdi.dashboards",
        description=f"Generate the CDI Grafana dashboards as JSON (usually: {REGENERATE_COMMAND}).",
    )
    parser.add_argument("out_dir", help="directory to write the dashboard JSON files into")
    args = parser.parse_args(argv)
    for path in generate(args.out_dir):
        print(path)


if __name__ == "__main__":
    main()
