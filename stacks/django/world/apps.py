from django.apps import AppConfig


class WorldConfig(AppConfig):
    name = "world"
