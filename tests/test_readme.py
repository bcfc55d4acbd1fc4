"""The README's Python examples run as written, and its quick start is what CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_python_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 2
    ns: dict = {}
    for b in blocks:
        exec(compile(b, "README.md", "exec"), ns)
    assert (tmp_path / "xor.ann").exists()
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "1.0"


def test_quick_start_has_two_commands_and_ci_runs_the_test_one():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    cmds = re.findall(r"```sh\n(.*?)\n```", quick, re.S)
    assert len(cmds) == 2
    assert "anndesigner samples/xor.ann" in cmds[0]
    test_cmd = cmds[1]
    ci = (ROOT / ".ci" / "run").read_text()
    install, run = test_cmd.split(" && ")
    assert 'pip install' in install and '".[test]"' in install and '".[test]"' in ci
    assert run.replace("QT_QPA_PLATFORM=offscreen ", "") in ci and "QT_QPA_PLATFORM=offscreen" in ci
