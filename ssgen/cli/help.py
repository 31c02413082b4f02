"""How ``--help`` reads: the metavars each option declares, nothing beside a flag, a plain
usage line, and every command's help naming the global options.

typer 0.29 (the newest release; it vendors its own click) prints its internal type names in
rich help: ``<bool>`` beside every flag and ``--help``, ``<list[str]>``, ``<int range> [x>=1]``
and ``{groq}`` in the usage line, and gives no setting to turn that off. The commands of
``ssgen`` are built with ``PlainCommand`` / ``PlainGroup``, which re-class their parameters
into subclasses that show the declared ``metavar`` instead (``--jobs N``). The overridden
hooks are typer internals, so pyproject.toml pins typer below 0.30 and the help snapshot
test (tests/test_cli_help.py) notices any change.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

GLOBAL_EPILOG = (
    "Global options, before or after the command: --site/-s PATH (the site folder), "
    "-q/--quiet, -v/--verbose. See ssgen --help."
)


class PlainOption(TyperOption):
    """An option whose help shows its metavar (``N``, ``URL``) or, for a flag, nothing."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return self.metavar or (self.name or "value").upper()

    def _get_number_range_help_str(self) -> str | None:
        return None  # the help text says the range in words


class PlainArgument(TyperArgument):
    """An argument shown by its metavar, ``QUERY`` (required) or ``[PATH]`` (optional)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the name column already shows the metavar

    def _usage_display_name(self) -> str:
        name = self.display_name_raw.upper()
        return name if self.required else f"[{name}]"

    def _get_number_range_help_str(self) -> str | None:
        return None


def plain(param: Any) -> None:
    """Re-class a typer parameter so its help reads plainly (same state, other display)."""
    if type(param) is TyperOption:
        param.__class__ = PlainOption
    elif type(param) is TyperArgument:
        param.__class__ = PlainArgument


class PlainCommand(TyperCommand):
    """A command whose help shows plain metavars and ends with the global options."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            plain(param)
        if not self.epilog:
            self.epilog = GLOBAL_EPILOG

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            plain(option)
        return option


class PlainGroup(TyperGroup):
    """The ``ssgen`` group: its own options and ``--help`` shown plainly too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            plain(param)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            plain(option)
        return option


__all__ = ["GLOBAL_EPILOG", "PlainArgument", "PlainCommand", "PlainGroup", "PlainOption"]
