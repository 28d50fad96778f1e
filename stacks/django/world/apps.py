from django.apps import AppConfig


class WorldConfig(AppConfig):
    name = "world"

    def ready(self):
        # The digits model, once per worker process at start: gunicorn sets Django up in each
        # worker after the fork (no --preload), uvicorn in each worker process it starts.
        from . import work

        work.load_model()
