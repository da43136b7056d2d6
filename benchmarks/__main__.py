"""`python -m benchmarks {pipeline,sync,features,moments}` (repo root): what the bench targets run."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import features, moments, pipeline, sync
from onboard.core.logs import configure_logging
from onboard.core.paths import PROJECT_DIR

OUTPUT = PROJECT_DIR / "docs" / "benchmarks.md"


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmarks of onboarding-paths; each writes its table into docs/benchmarks.md.",
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="{pipeline,sync,features,moments}")

    steps = commands.add_parser(
        "pipeline",
        help="generate, load, validate, build and plan a sync at scale",
        description="Generate, load, validate, build (full, then one day incremental) and plan a sync "
        "at each size; time and peak memory of every step.",
    )
    steps.add_argument(
        "--customers",
        type=int,
        action="append",
        dest="sizes",
        metavar="N",
        help="a size to run (repeatable); default: "
        + " and ".join(str(size) for size in pipeline.DEFAULT_SIZES),
    )
    steps.add_argument(
        "--work-dir", type=Path, default=pipeline.WORK_DIR, help="scratch folder for data and warehouses"
    )
    steps.add_argument("--output", type=Path, default=OUTPUT, help="Markdown file to write the table into")
    steps.add_argument(
        "--section",
        default="bench",
        help="which table of the file to replace (<!-- SECTION:start --> markers)",
    )
    steps.add_argument(
        "--target", choices=pipeline.TARGETS, default="duckdb", help="spark: run from .venv-spark"
    )

    syncs = commands.add_parser("sync", help=sync.DESCRIPTION, description=sync.DESCRIPTION)
    syncs.add_argument(
        "--records", type=int, default=sync.DEFAULT_RECORDS, help="contacts to sync to HubSpot (0: skip)"
    )
    syncs.add_argument(
        "--plan-rows",
        type=int,
        default=sync.DEFAULT_PLAN_ROWS,
        help="rows of each mart for the dry runs (0: skip)",
    )
    syncs.add_argument(
        "--work-dir", type=Path, default=sync.WORK_DIR, help="scratch folder for warehouses, logs, plans"
    )
    syncs.add_argument("--output", type=Path, default=OUTPUT, help="Markdown file to write the section into")
    syncs.add_argument("--no-output", action="store_true", help="print the section only")
    syncs.add_argument(
        "--section", default=sync.SECTION, help="<!-- SECTION:start --> markers to write between"
    )

    extras = commands.add_parser(
        "features",
        help="what the funnel marts add to a build; the experiments readout at scale",
        description=(features.__doc__ or "").split("\n\n")[1].replace("\n", " "),
    )
    extras.add_argument("--customers", type=int, default=features.DEFAULT_CUSTOMERS, metavar="N")
    extras.add_argument("--work-dir", type=Path, default=features.WORK_DIR, help="scratch folder")
    extras.add_argument("--output", type=Path, default=OUTPUT, help="Markdown file to write the table into")
    extras.add_argument(
        "--section", default=features.SECTION, help="<!-- SECTION:start --> markers to write between"
    )

    events = commands.add_parser("moments", help=moments.DESCRIPTION, description=moments.DESCRIPTION)
    events.add_argument(
        "--events",
        type=int,
        default=moments.DEFAULT_EVENTS,
        help="fresh moments to send to Customer.io (0: skip)",
    )
    events.add_argument(
        "--plan-customers",
        type=int,
        default=moments.DEFAULT_PLAN_CUSTOMERS,
        help="customers whose moments are planned (0: skip)",
    )
    events.add_argument("--work-dir", type=Path, default=moments.WORK_DIR, help="scratch folder")
    events.add_argument("--output", type=Path, default=OUTPUT, help="Markdown file to write the section into")
    events.add_argument("--no-output", action="store_true", help="print the section only")
    events.add_argument(
        "--section", default=moments.SECTION, help="<!-- SECTION:start --> markers to write between"
    )
    return main


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    configure_logging()
    if args.command == "pipeline":
        results = pipeline.run_bench(
            args.sizes or list(pipeline.DEFAULT_SIZES), args.work_dir, args.output, args.section, args.target
        )
        print(pipeline.render_markdown(results, args.target))
        print(f"written to {args.output}")
        return
    if args.command == "features":
        results = features.run(args.customers, args.work_dir, args.output, args.section)
        print(pipeline.render_markdown(results))
        print(f"written to {args.output}")
        return
    output = None if args.no_output else args.output
    if args.command == "moments":
        print(moments.run(args.events, args.plan_customers, args.work_dir, output, args.section))
        if output is not None:
            print(f"written to {output}")
        return
    print(sync.run(args.records, args.plan_rows, args.work_dir, output, args.section))
    if output is not None:
        print(f"written to {output}")


if __name__ == "__main__":
    main()
