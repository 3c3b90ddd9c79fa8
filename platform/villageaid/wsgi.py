"""The WSGI entry for gunicorn: `gunicorn -w 4 --preload 'villageaid.wsgi:app'`.

It builds the app and loads, before gunicorn forks its workers, what each worker would otherwise
load on its first search: jieba's dictionary and the domain words (about 0.6 s of CPU and 100 MB per
process, measured at campaign scale). Loaded in the preloading master, the workers share it
copy-on-write and no visitor waits for it. The index itself is not opened here: an open searcher's
files must not be shared across the fork, so each worker opens its own on its first search.
"""
from . import create_app
from .search import services as search

app = create_app()
with app.app_context():
    search.get_index()  # jieba's cache folder under DATA_DIR, and the dictionary; no index file is opened
