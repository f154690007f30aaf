"""`tap`: one command for what the Makefile targets run (synth, check, report, diagram, discover).

The Makefile calls it, so a target and the command share one code path. Long steps print one line
each, with its time, on stderr, so stdout stays what the command reports. Errors are one
paragraph; `--debug` adds the traceback.

Exit codes: 0 clean; 1 findings (a failed check, a stale baseline entry); 2 invalid
configuration (nothing was written); 3 could not run (a missing tool, or an unexpected error).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from lib.errors import ConfigError
from lib.profiles import PROFILES, load_config
from tools import CouldNotRun, compliance, jsii_runtime

CLEAN, FINDINGS, INVALID_CONFIGURATION, COULD_NOT_RUN = 0, 1, 2, 3
EXIT_CODES = f"""exit codes:
  {CLEAN}  clean
  {FINDINGS}  findings: a failed check or a stale baseline entry (tap check)
  {INVALID_CONFIGURATION}  invalid configuration: nothing was written
  {COULD_NOT_RUN}  could not run: a missing tool, or an unexpected error (--debug shows the traceback)"""
ALL = "all"


Progress = Callable[[str], None]


def progress_line(message: str) -> None:
    """A step done, on stderr: stdout is what the command reports."""
    print(f"  {message}", file=sys.stderr, flush=True)


@contextmanager
def timed(step: str, progress: Progress) -> Iterator[None]:
    started = time.perf_counter()
    yield
    progress(f"{step} in {time.perf_counter() - started:.1f} s")


def overridden(environ: Mapping[str, str], args: argparse.Namespace) -> dict[str, str]:
    """The environment with the command line's --profile, --suffix and --config applied."""
    result = dict(environ)
    for option, variable in (("profile", "TAP_PROFILE"), ("suffix", "ENVIRONMENT_SUFFIX"), ("config", "TAP_CONFIG")):
        value = getattr(args, option, None)
        if value is not None:
            result[variable] = value
    return result


def profile_labels(environ: Mapping[str, str], args: argparse.Namespace) -> list[str]:
    """`--profile all` (or TAP_PROFILE=all): every profile; otherwise the one named, or the default."""
    chosen = args.profile or environ.get("TAP_PROFILE") or None
    if chosen == ALL:
        return list(PROFILES)
    return [load_config({**overridden(environ, args), **({"TAP_PROFILE": chosen} if chosen else {})}).profile]


# Commands


def profiles_command(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    width = max(map(len, PROFILES))
    for name, config in PROFILES.items():
        document, _, description = config.description.partition(": ")
        if not description:  # `full` names no document
            document, description = "all", config.description
        print(f"{name:<{width}}  {document:<3}  {description}")
    return CLEAN


def synth_command(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """What `make synth` runs: both stacks into `--out`, then the summary."""
    from lib.synth import summary, synthesize  # noqa: PLC0415 (the bindings load after prepare)

    result = synthesize(load_config(overridden(environ, args)), args.out)
    if args.summary:
        print(summary(result))
    return CLEAN


def check_command(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """The compliance gate: Checkov and TAP's rules over every profile (or those named)."""
    runs = [run for run in compliance.default_runs() if not args.profile or run[0].split("+")[0] in args.profile]
    with tempfile.TemporaryDirectory() as root:
        synthesized = compliance.synthesize_runs(runs, Path(root), progress_line)
        assessment = compliance.assess(
            synthesized,
            compliance.load_baseline(),
            progress_line,
            every_run=len(runs) == len(compliance.default_runs()),
        )
    print(assessment.report())
    return CLEAN if assessment.gate.ok else FINDINGS


def report_command(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """The PCI DSS v4.0 evidence report of the profile (or of every profile, with an index)."""
    from tools import pci_report  # noqa: PLC0415

    labels = profile_labels(environ, args)
    written = pci_report.write_reports(
        [load_config({**overridden(environ, args), "TAP_PROFILE": label}) for label in labels],
        Path(args.out),
        progress_line,
        index=len(labels) > 1,
    )
    for path in written:
        print(path)
    return CLEAN


def diagram_command(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Each profile's architecture as DOT, SVG and PNG, drawn from its synthesized JSON."""
    from lib.synth import synthesize  # noqa: PLC0415
    from tools import diagram  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as root:
        for label in profile_labels(environ, args):
            config = load_config({**overridden(environ, args), "TAP_PROFILE": label})
            with timed(f"synthesized {label}", progress_line):
                result = synthesize(config, Path(root) / label)
            with timed(f"drew {label}", progress_line):
                paths = diagram.write(label, result.output_file, result.baseline_file, Path(args.out))
            for path in paths:
                print(path)
    return CLEAN


def discover_command(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """The account look-up of the governance baseline (`tools/discover.py`)."""
    from tools import discover  # noqa: PLC0415

    return discover.main(overridden(environ, args))


# The parser


def profile_options(parser: argparse.ArgumentParser, *, allow_all: bool) -> None:
    choices = [*PROFILES, ALL] if allow_all else list(PROFILES)
    parser.add_argument(
        "--profile",
        choices=choices,
        help="the profile (default: TAP_PROFILE, else full)" + ("; 'all' for every profile" if allow_all else ""),
    )
    parser.add_argument("--suffix", help="ENVIRONMENT_SUFFIX: the environment's name suffix (default: dev)")
    parser.add_argument("--config", metavar="FILE", help="TAP_CONFIG: a TOML file of settings over the profile")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="tap",
        description="TAP: PCI-DSS payment infrastructure on AWS, as Terraform JSON from CDK Terrain.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, summary: str, run: Callable[[argparse.Namespace, Mapping[str, str]], int]
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(run=run)
        return sub

    command("profiles", "list the profiles, with the document each reproduces", profiles_command)
    synth = command("synth", "synthesize both stacks and print what was built (what `make synth` runs)", synth_command)
    profile_options(synth, allow_all=False)
    synth.add_argument("--out", default="cdktf.out", help="output directory (default: cdktf.out)")
    synth.add_argument("--no-summary", dest="summary", action="store_false", help="write the stacks, print nothing")
    check = command(
        "check",
        "run the compliance gate: Checkov and TAP's rules on every profile, failures grouped by rule",
        check_command,
    )
    check.add_argument(
        "--profile",
        action="append",
        choices=list(PROFILES),
        help="only this profile (repeatable; default: every profile)",
    )
    report = command("report", "write the PCI DSS v4.0 evidence report (HTML and JSON)", report_command)
    profile_options(report, allow_all=True)
    report.add_argument("--out", default="reports", help="where to write reports/<stack>/ (default: reports)")
    diagram = command(
        "diagram", "draw each profile's architecture (DOT, SVG, PNG) from its synthesized JSON", diagram_command
    )
    profile_options(diagram, allow_all=True)
    diagram.add_argument("--out", default="docs/diagrams", help="output directory (default: docs/diagrams)")
    discover = command(
        "discover", "ask the AWS account what the baseline must adopt and write it into TAP_CONFIG", discover_command
    )
    discover.add_argument("--config", metavar="FILE", help="TAP_CONFIG: the config file to write into")
    return root


def paragraph(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=100)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    args = parser().parse_args(argv)
    jsii_runtime.prepare(runtime_type_checks=False)
    try:
        code: int = args.run(args, environ)
    except ConfigError as error:
        print(f"error: {error}\nnothing was written.", file=sys.stderr)
        return INVALID_CONFIGURATION
    except CouldNotRun as error:
        print(paragraph(f"tap {args.command}: {error}"), file=sys.stderr)
        return COULD_NOT_RUN
    except Exception as error:  # one paragraph for anything unexpected; the traceback on request
        if args.debug:
            traceback.print_exc()
        else:
            print(
                paragraph(
                    f"tap {args.command}: {type(error).__name__}: {error}. "
                    "This is unexpected: run again with --debug for the traceback."
                ),
                file=sys.stderr,
            )
        return COULD_NOT_RUN
    return code


if __name__ == "__main__":
    sys.exit(main())
