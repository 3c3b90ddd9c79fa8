"""Index jobs: the only code that writes the search index (queue "search", one worker)."""
from . import job


@job
def index_objects(kind, ids):
    from villageaid.search.services import index_objects as index

    index(kind, ids)


@job
def rebuild_index():
    from villageaid.search.services import rebuild

    return rebuild()


@job
def repair_index():
    """Rebuild the index if it is (still) unreadable: asked for by every process that finds it so."""
    from villageaid.search.services import repair

    return repair()
