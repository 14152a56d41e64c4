"""The typer app: every command registered here, in one place, in the order `--help` lists them."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from persona_assistant import __version__
from persona_assistant.cli import (
    cmd_analyze, cmd_campaign, cmd_chat, cmd_demo, cmd_draft, cmd_export, cmd_llm, cmd_score, cmd_workspace,
)
from persona_assistant.cli.common import show_progress


def _version(value: bool) -> None:
    if value:
        typer.echo(f"persona-assistant {__version__}")
        raise typer.Exit()


def _main(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False,
) -> None:
    # --debug is read by cli.main.run from the arguments (it decides how an error ends); here it is
    # only declared so typer accepts and documents it.
    show_progress()
    if debug:  # e.g. the rows each warehouse query fetched (warehouse/query.py)
        import logging

        logging.getLogger("persona_assistant").setLevel(logging.DEBUG)


def _sub(help: str) -> typer.Typer:
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


# Every command, in the order `--help` lists them (groups last, as typer shows them); a new command is added here.
COMMANDS = (
    ("init", cmd_workspace.init), ("schema", cmd_workspace.schema), ("analyze", cmd_analyze.analyze),
    ("draft", {"help": "Draft the ICP or the personas (model, or the offline engine) as a new version.",
               "commands": [("icp", cmd_draft.draft_icp_command), ("personas", cmd_draft.draft_personas_command)]}),
    ("history", cmd_draft.history), ("diff", cmd_draft.diff), ("campaign", cmd_campaign.campaign),
    ("score", cmd_score.score), ("backtest", cmd_score.backtest), ("export", cmd_export.export),
    ("chat", cmd_chat.chat), ("demo", cmd_demo.demo),
    ("keys", {"help": "The model API key, kept in your user config folder (mode 0600), never in a workspace.",
              "commands": [("set", cmd_llm.keys_set), ("path", cmd_llm.keys_path_cmd)]}),
    ("log", cmd_llm.log_cmd), ("usage", cmd_llm.usage_cmd),
)


def build_app() -> typer.Typer:
    """The app with every command of COMMANDS."""
    app = typer.Typer(
        name="persona-assistant",
        help=(
            "Evidence-backed ICPs, buyer personas, campaign copy and lead scores from your own "
            "CRM exports and interview notes. Every claim cites its source; where the data is "
            "silent the tool says 'unknown'.\n\n"
            "Start with `persona-assistant demo`, or `persona-assistant init DIR` for your own data."
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    app.callback()(_main)
    for name, fn in COMMANDS:
        if isinstance(fn, dict):  # a group: `draft icp`, `keys set`
            group = _sub(fn["help"])
            for sub, sub_fn in fn["commands"]:
                group.command(sub)(sub_fn)
            app.add_typer(group, name=name)
        else:
            app.command(name)(fn)
    return app


app = build_app()
