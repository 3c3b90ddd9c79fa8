"""gunicorn's entry (`villageaid.wsgi:app`) loads jieba before the fork, opens no index file and freezes
what it loaded out of the garbage collector."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc
import json
import villageaid.wsgi as entry
from search_index import analyzer
index = entry.app.extensions["villageaid.search_index"]
print(json.dumps({"jieba_ready": analyzer._ready, "searcher_open": index._searcher is not None,
                  "index_object": index._ix is not None,
                  "frozen": gc.get_freeze_count() > 50_000,
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
    # What the master loaded is frozen out of the workers' garbage collections.
    assert state == {"jieba_ready": True, "searcher_open": False, "index_object": False, "frozen": True, "ping": 200}
    assert (tmp_path / "jieba.cache").exists()  # in DATA_DIR, where every worker and service user finds it
