"""Worker entry point: `python -m jobs.worker [queues…]` (production runs it under a supervisor).

Run exactly one worker for the "search" queue: the index has one writer.
"""
import sys

from rq import Worker

from . import use_app


def main(argv=None):
    from villageaid import create_app
    from villageaid.queue import redis_connection

    names = (argv if argv is not None else sys.argv[1:]) or ["default"]
    app = create_app()
    use_app(app)
    with app.app_context():
        connection = redis_connection()
    Worker(names, connection=connection).work(with_scheduler=False)


if __name__ == "__main__":
    main()
