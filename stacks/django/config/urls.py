from django.urls import path

from world import views

urlpatterns = [
    path("json", views.json_view),
    path("plaintext", views.plaintext),
    path("db", views.single_query),
    path("queries", views.multiple_queries),
    path("fortunes", views.fortunes),
    path("updates", views.updates),
    path("upstream", views.upstream),
    path("cpu", views.cpu),
    path("aggregate", views.aggregate),
    path("predict", views.predict),
    path("predict/image", views.predict_image),
]
