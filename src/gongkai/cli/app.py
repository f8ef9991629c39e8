"""The command line in one language: click's and typer's own words in Chinese, every usage
mistake one line on stderr (`gongkai: <option or value>: <problem>`), and no traceback for a
problem of the machine (a full disk, a read-only database) or a bug."""

from __future__ import annotations

import errno
import logging
import os
import re
import sys
from typing import Any

import typer
from typer._click import exceptions as clickerr  # typer 0.29 carries its own click
from typer.core import TyperCommand, TyperGroup

from gongkai.cli.common import PROGRAM, database_problem, error, one_line

# typer's own words in Chinese (gettext ids; placeholders keep their names).
CHINESE = {
    "Options": "选项",
    "Arguments": "参数",
    "Commands": "命令",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "(dynamic)": "（动态）",
    "Aborted!": "已中止",
    "Missing command.": "缺少命令",
    "No such command {name!r}.": "没有命令 {name!r}",
}

# What the values' checks say (pydantic's words) and what a person reads instead.
_VALUE_PROBLEMS = (
    (re.compile(r"Input should be less than or equal to (\S+)"), r"应不大于 \1"),
    (re.compile(r"Input should be less than (\S+)"), r"应小于 \1"),
    (re.compile(r"Input should be greater than or equal to (\S+)"), r"应不小于 \1"),
    (re.compile(r"Input should be greater than (\S+)"), r"应大于 \1"),
    (re.compile(r"Input should be a valid integer.*"), "应为整数"),
    (re.compile(r"Input should be a valid (number|float).*"), "应为数字"),
    (re.compile(r"Input should be a valid boolean.*"), "应为是或否（true/false）"),
    (re.compile(r"(?:Value error, )?(.*) is not one of (.*?)\.?$"), r"\1 不是可选值（\2）之一"),
    (re.compile(r"^Value error, "), ""),
)


def _gettext(message: str) -> str:
    return CHINESE.get(message, message)


def localise() -> None:
    """typer's help in Chinese: its gettext and its help panels' words."""
    import typer.core
    import typer.rich_utils as panels

    typer.core._ = _gettext  # type: ignore[attr-defined]
    # An argument with a metavar a person understands (文件或文件夹) shows no Python type beside it.
    shows_type = typer.core.TyperArgument.display_type_rich
    typer.core.TyperArgument.display_type_rich = (  # type: ignore[method-assign]
        lambda self, ctx: None if self.metavar else shows_type(self, ctx))
    panels.ARGUMENTS_PANEL_TITLE = "参数"
    panels.OPTIONS_PANEL_TITLE = "选项"
    panels.COMMANDS_PANEL_TITLE = "命令"
    panels.ERRORS_PANEL_TITLE = "错误"
    panels.ABORTED_TEXT = "已中止"
    panels.DEFAULT_STRING = "[默认：{}]"
    panels.ENVVAR_STRING = "[环境变量：{}]"
    panels.REQUIRED_LONG_STRING = "[必填]"
    panels.RICH_HELP = "用 [blue]'{command_path} {help_option}'[/] 查看用法"


def value_problem(message: str) -> str:
    for pattern, chinese in _VALUE_PROBLEMS:
        if pattern.search(message):
            return pattern.sub(chinese, message)
    return message


def _hint(exc: clickerr.UsageError) -> str:
    return f"（{exc.ctx.command_path} --help 查看用法）" if exc.ctx is not None else ""


def _param_name(param: Any) -> str | None:
    if param is None:
        return None
    if getattr(param, "param_type_name", "") == "argument":
        return param.metavar or param.name
    return param.opts[0] if param.opts else param.name


def _given(args: list[str], option: str | None) -> str | None:
    """The value the person gave an option (--year 2024 or --year=2024), to name it in the message."""
    if not option or not option.startswith("-"):
        return None
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(option + "="):
            return arg.partition("=")[2]
    return None


def usage_message(exc: clickerr.UsageError) -> tuple[str | None, str]:
    """(what was wrong: an option, an argument, a command; the problem) for one line."""
    if isinstance(exc, clickerr.NoSuchOption):
        maybe = f"；是否要用 {'、'.join(sorted(exc.possibilities))}？" if exc.possibilities else ""
        return exc.option_name, f"没有这个选项{maybe}{_hint(exc)}"
    if isinstance(exc, clickerr.MissingParameter):
        kind = "参数" if getattr(exc.param, "param_type_name", "") == "argument" else "必填的选项"
        return _param_name(exc.param), f"缺少{kind}{_hint(exc)}"
    if isinstance(exc, clickerr.BadParameter):
        return _param_name(exc.param), value_problem(exc.message)
    if isinstance(exc, clickerr.BadOptionUsage):
        if "requires" in exc.message and "argument" in exc.message:
            return exc.option_name, f"缺少选项的值{_hint(exc)}"
        return exc.option_name, exc.message
    match = re.match(r"No such command '(.*)'", exc.message) or re.match(r"没有命令 '(.*)'", exc.message)
    if match:
        return match[1], f"没有这个命令（{PROGRAM} --help 列出全部命令）"
    match = re.match(r"Got unexpected extra arguments? \((.*)\)", exc.message)
    if match:
        return match[1], f"多余的参数{_hint(exc)}"
    return None, exc.message + _hint(exc)


def _store_error() -> type[Exception] | None:
    try:
        from gongkai.store.db import StoreError
    except ImportError:  # the store is not installed
        return None
    return StoreError


def _crash(exc: BaseException) -> int:
    """A problem no command handled: one line, never a traceback (GONGKAI_DEBUG=1 shows it)."""
    if os.environ.get("GONGKAI_DEBUG"):
        raise exc
    from gongkai.document import LoadError
    from gongkai.formats import FormatError

    if isinstance(exc, FormatError):  # names its file and line itself
        error(None, str(exc))
        return 2
    if isinstance(exc, LoadError):
        error(exc.path, exc.problem)
        return 2
    store_error = _store_error()
    if store_error is not None and isinstance(exc, store_error):
        error(exc.db, exc.problem)
        return 2
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            error(exc.filename, "磁盘已满，无法写入 (no space left on device)")
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            error(exc.filename, f"没有写入或读取权限 (permission denied: {exc.strerror})")
        else:
            error(exc.filename, f"{exc.strerror or exc} ({type(exc).__name__})")
        return 2
    if type(exc).__module__.startswith("sqlalchemy"):
        error(None, database_problem(exc))
        return 2
    if isinstance(exc, RecursionError):
        error(None, "数据嵌套过深，无法处理 (nesting too deep)")
        return 2
    if isinstance(exc, MemoryError):
        error(None, "内存不足 (out of memory)")
        return 2
    error(None, f"内部错误，请报告此问题（设 GONGKAI_DEBUG=1 可看详细信息）(internal error: {type(exc).__name__}: "
                f"{one_line(exc)[:300]})")
    return 70


def _chinese_help(option: Any) -> Any:
    """The --help option reading 显示本帮助并退出, with no type shown."""
    if option is not None:
        option.help = "显示本帮助并退出"
        option.metavar = ""
    return option


def _usage(command: Any, ctx: Any, formatter: Any) -> None:
    formatter.write_usage(ctx.command_path, " ".join(command.collect_usage_pieces(ctx)), prefix="用法：")


class Command(TyperCommand):
    def get_help_option(self, ctx: Any) -> Any:
        return _chinese_help(super().get_help_option(ctx))

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        _usage(self, ctx, formatter)


class Group(TyperGroup):
    """The `gongkai` group: every command a Command; usage mistakes and crashes as one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options_metavar = "[选项]"
        self.subcommand_metavar = "命令 [参数]..."
        for command in self.commands.values():
            if type(command) is TyperCommand:
                command.__class__ = Command  # same state, Chinese help (typer takes no default class)
            command.options_metavar = "[选项]"

    def get_help_option(self, ctx: Any) -> Any:
        return _chinese_help(super().get_help_option(ctx))

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        _usage(self, ctx, formatter)

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        # Libraries' own warnings (pdfminer's "Could not get FontBBox …") are not the person's business.
        logging.getLogger("pdfminer").setLevel(logging.ERROR)
        try:
            result = super().main(args, prog_name or PROGRAM, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except clickerr.NoArgsIsHelpError as exc:
            typer.echo(exc.message)
            code = 2
        except clickerr.UsageError as exc:
            name, problem = usage_message(exc)
            given = _given(sys.argv[1:] if args is None else list(args), name)
            error(f"{name} {given}" if given is not None else name, problem)
            code = exc.exit_code
        except clickerr.ClickException as exc:
            error(None, exc.format_message())
            code = exc.exit_code
        except typer.Abort:
            error(None, "已中止")
            code = 130
        except KeyboardInterrupt:
            error(None, "已中断")
            code = 130
        except BrokenPipeError:
            sys.stderr.close()
            code = 1
        except Exception as exc:
            code = _crash(exc)
        sys.exit(code)


def version_callback(value: bool) -> None:
    if value:
        from gongkai import __version__

        typer.echo(f"{PROGRAM} {__version__}")
        raise typer.Exit()


VersionOpt = typer.Option("--version", "-V", metavar="", callback=version_callback, is_eager=True,
                          help="显示版本并退出")
