"""The WSGI entry for gunicorn: `gunicorn -w 4 --preload 'villageaid.wsgi:app'`.

It builds the app and loads, before gunicorn forks its workers, what each worker would otherwise
load on its first search: jieba's dictionary and the domain words (about 0.6 s of CPU and 100 MB per
process, measured at campaign scale). Loaded in the preloading master, the workers share it
copy-on-write and no visitor waits for it. The index itself is not opened here: an open searcher's
files must not be shared across the fork, so each worker opens its own on its first search. Last,
everything loaded so far is frozen out of the garbage collector (below).
"""
import gc

from . import create_app
from .search import services as search

app = create_app()
with app.app_context():
    search.get_index()  # jieba's cache folder under DATA_DIR, and the dictionary; no index file is opened
# What the master loaded lives as long as the workers, so their garbage collections need not visit it.
# Frozen, it is left out of them: a full collection in a worker then reads 30,000 objects instead of
# 240,000, and no longer writes to the pages it shares with the master (each worker kept a private
# copy of 30 MB of them; at campaign scale a full collection paused a worker 140-360 ms, 20-160 ms frozen).
gc.freeze()
