import pytest

from swcompany.paths import UnsafePathError, safe_relpath


@pytest.mark.parametrize("path,expected", [
    ("todo/cli.py", "todo/cli.py"),
    ("./todo//cli.py", "todo/cli.py"),
    ("README.md", "README.md"),
])
def test_accepts_relative_paths(path, expected):
    assert safe_relpath(path) == expected


@pytest.mark.parametrize("path", [
    "", "   ", "../x.py", "a/../../etc/passwd", "/etc/hosts", "C:\\x", "C:/x", "a\\b.py", "~/.ssh/id_rsa",
    ".git/config", ".swcompany/state.json", "x" * 300, "bad\x00name.py", "line\nbreak.py",
])
def test_refuses_unsafe_paths(path):
    with pytest.raises(UnsafePathError):
        safe_relpath(path)


def test_workspace_refuses_symlink_escape(tmp_path):
    from swcompany.workspace import Workspace

    ws = Workspace.create(tmp_path / "ws")
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws.root / "link").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        ws.write("link/evil.py", "x = 1\n")
    assert not (outside / "evil.py").exists()
