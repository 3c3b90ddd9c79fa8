"""gunicorn's entry (`villageaid.wsgi:app`) loads jieba before the fork and opens no index file."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json
import villageaid.wsgi as entry
from search_index import analyzer
index = entry.app.extensions["villageaid.search_index"]
print(json.dumps({"jieba_ready": analyzer._ready, "searcher_open": index._searcher is not None,
                  "index_object": index._ix is not None,
                  "ping": entry.app.test_client().get("/ping").status_code}))
"""


def test_the_entry_loads_jieba_and_opens_no_index(tmp_path):
    env = dict(os.environ, DATA_DIR=str(tmp_path), SECRET_KEY="x" * 40, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'platform'}")
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state == {"jieba_ready": True, "searcher_open": False, "index_object": False, "ping": 200}
    assert (tmp_path / "jieba.cache").exists()  # in DATA_DIR, where every worker and service user finds it
