"""The core never imports Qt: every module outside anndesigner.ui imports
with PySide6, shiboken6 and pyqtgraph made unimportable."""

import subprocess
import sys
import textwrap


def test_core_imports_without_qt():
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys

        class Block:
            BANNED = ("PySide6", "shiboken6", "pyqtgraph")
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in self.BANNED:
                    raise ImportError(f"blocked: {name}")
                return None

        sys.meta_path.insert(0, Block())
        import anndesigner
        names = ["anndesigner"]
        for m in pkgutil.walk_packages(anndesigner.__path__, "anndesigner."):
            if m.name == "anndesigner.ui" or m.name.startswith("anndesigner.ui.") or m.name == "anndesigner.__main__":
                continue
            names.append(m.name)
        for n in names:
            importlib.import_module(n)
        assert not any(k.split(".")[0] in Block.BANNED for k in sys.modules)
        print(len(names))
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.strip()) >= 20  # graph, engine, data, io, cli ... were all imported
