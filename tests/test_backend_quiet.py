"""`import invariance` keeps TensorFlow's native start-up chatter off the terminal."""
import subprocess
import sys


def test_import_prints_nothing_but_keeps_real_messages():
    code = "import sys; sys.stderr.write('mine\\n'); import invariance, keras; keras.ops.ones(2)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "mine"
