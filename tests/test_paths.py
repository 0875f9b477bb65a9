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


# Every spelling a case-insensitive or normalising filesystem (HFS+/APFS, NTFS) reads as .git.
GIT_SPELLINGS = [
    "sub/.git/config", "a/b/.git", ".GIT/config", "x/.Git/hooks/post-commit", "a/.git./config", "a/.git../x",
    "a/.git /config", "a/.git . /x", ".git\u00a0/x", "\uff0e\uff47\uff49\uff54/config", "a/.\uff27it/x",
    "GIT~1/config", "a/git~2/HEAD", ".g\u200bit/config", "a/.git\u200d/x", ".gi\ufefft/x", ".gi\ufe0ft/x",
    "\u202e.git/x", ".swcompany/state.json", ".SWCOMPANY/x", ".swcompany./x", "SWCOMP~1/state.json",
]


@pytest.mark.parametrize("path", GIT_SPELLINGS)
def test_refuses_git_in_every_spelling(path):
    with pytest.raises(UnsafePathError):
        safe_relpath(path)


@pytest.mark.parametrize("path,message", [
    ("sub/.git/config", "reserved for swcompany/git"),
    ("a/GIT~1/x", "reserved for swcompany/git"),
    ("a/.../b", "only dots or spaces"),
    ("a/ /b", "only dots or spaces"),
    ("\u00e9" * 200 + ".py", "longer than 255 bytes"),
    ("a/\x1b]52;c;aGk=\x07.py", "forbidden characters"),
    ("a\u202eyp.exe", "forbidden characters"),
    ("a\ud800.py", "forbidden characters"),
])
def test_refusal_messages(path, message):
    with pytest.raises(UnsafePathError, match=message):
        safe_relpath(path)


@pytest.mark.parametrize("path", ["a/.swcompany/x", "github/x.py", "a/.gitx/y", "git/x.py", "a/gitx~1.py", ".gitignore",
                                  "caf\u00e9/menu.py"])
def test_accepts_names_that_only_look_alike(path):
    assert safe_relpath(path) == path


def test_fs_key_folds_what_filesystems_fold():
    from swcompany.paths import fs_key

    assert fs_key("README.md") == fs_key("readme.MD") == fs_key("ＲＥＡＤＭＥ.md") == "readme.md"
    assert fs_key(".git. . ") == ".git"
