"""`blogarchive profile ARCHIVE_DIR`: what the crawl learnt as each blog's template (audit)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from crawler.extract.profile import load_profiles


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("archive_dir", type=Path, help="the archive directory")
    parser.add_argument("--site", help="only this blog (its start URL)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run_profile(args: argparse.Namespace) -> int:
    """Show the template blocks learnt per blog, which the crawl removes from bodies."""
    from archive.cli import CommandError

    files = sorted(args.archive_dir.glob("profiles-*.json"))
    if not args.archive_dir.is_dir():
        raise CommandError(f"{args.archive_dir}: no such directory")
    report: dict[str, dict] = {}
    for path in files:
        for site, profile in load_profiles(path).items():
            if args.site and site != args.site:
                continue
            report[f"{site} ({path.name})"] = {"pages": profile.pages, "blocks": profile.explain()}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    if not report:
        print("no site profiles in", args.archive_dir)
        return 1
    for name, entry in report.items():
        print(f"{name}: {len(entry['blocks'])} template blocks learnt from {entry['pages']} pages")
        for block in entry["blocks"]:
            sample = block["sample"] or f"<{block['fingerprint']}>"
            print(f"  {block['pages']:>6} pages ({block['share']:.0%})  {sample}")
    return 0
