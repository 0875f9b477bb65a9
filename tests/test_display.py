import pytest

from swcompany.display import strip_control, terminal_safe


@pytest.mark.parametrize("text,expected", [
    ("plain text", "plain text"),
    ("copy\x1b]52;c;cm0gLXJmIH4=\x07 me", "copy me"),
    ("osc with st\x1b]0;title\x1b\\ end", "osc with st end"),
    ("erase\x1b[2K\x1b[1Aline", "eraseline"),
    ("8-bit\x9b2Kcsi", "8-bitcsi"),
    ("bidi \u202eevil\u202c", "bidi \\u202eevil\\u202c"),
    ("bell\x07 and nul\x00", "bell\\x07 and nul\\x00"),
    ("two\nlines\ttab", "two lines tab"),
    ("[red]markup[/] stays", "[red]markup[/] stays"),
])
def test_terminal_safe(text, expected):
    assert terminal_safe(text) == expected


def test_strip_control_keeps_lines():
    assert strip_control("a\x1b[31m\nb\u200b\tc\x7f") == "a\nb\tc"
    assert terminal_safe("a\nb", keep_newlines=True) == "a\nb"


def test_rich_ui_prints_model_text_literally():
    from io import StringIO

    from rich.console import Console

    from swcompany.ui import ConsoleUI

    ui = ConsoleUI("rich")
    buffer = StringIO()
    ui.console = Console(file=buffer, force_terminal=True, color_system=None, width=200)
    ui._line("wrote [red]x[/red]\x1b]52;c;aGk=\x07 \u202eevil")
    assert buffer.getvalue().strip() == "wrote [red]x[/red] \\u202eevil"
