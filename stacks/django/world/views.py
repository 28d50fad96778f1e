import os
import re
from operator import attrgetter
from random import randint, sample

import requests
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from . import work
from .models import Fortune, World

UPSTREAM_URL = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8080").rstrip("/")
# One keep-alive session per worker process for the upstream calls.
http = requests.Session()

_INTEGER = re.compile(r"[+-]?[0-9]+")


def int_param(request, name, default, low, high):
    """Parse a query parameter: missing or not an integer gives the default, then clamp."""
    raw = request.GET.get(name)
    value = int(raw) if raw is not None and _INTEGER.fullmatch(raw) else default
    return max(low, min(value, high))


def random_id():
    return randint(1, 10000)


def json_view(request):
    return JsonResponse({"message": "Hello, World!"})


def plaintext(request):
    return HttpResponse("Hello, World!", content_type="text/plain")


def single_query(request):
    return JsonResponse(World.objects.get(id=random_id()).to_dict())


def multiple_queries(request):
    count = int_param(request, "n", 1, 1, 500)
    worlds = [World.objects.get(id=random_id()).to_dict() for _ in range(count)]
    return JsonResponse(worlds, safe=False)


def fortunes(request):
    fortunes = list(Fortune.objects.all())
    fortunes.append(Fortune(id=0, message="Additional fortune added at request time."))
    fortunes.sort(key=attrgetter("message"))
    return render(request, "fortunes.html", {"fortunes": fortunes})


def updates(request):
    count = int_param(request, "n", 1, 1, 500)
    # Distinct ids, so that every returned number is the one the database keeps.
    ids = sorted(sample(range(1, 10001), count))
    worlds = [World.objects.get(id=world_id) for world_id in ids]
    for world in worlds:
        world.random_number = random_id()
    World.objects.bulk_update(worlds, ["random_number"])
    return JsonResponse([world.to_dict() for world in worlds], safe=False)


def upstream(request):
    delay = int_param(request, "ms", 0, 0, 10000)
    reply = http.get(f"{UPSTREAM_URL}/delay", params={"ms": delay}, timeout=(5, 30))
    reply.raise_for_status()
    return HttpResponse(reply.content, content_type="application/json")


def count_primes(n):
    primes = 1 if n > 2 else 0
    for k in range(3, n, 2):
        d = 3
        prime = True
        while d * d <= k:
            if k % d == 0:
                prime = False
                break
            d += 2
        if prime:
            primes += 1
    return primes


def cpu(request):
    limit = int_param(request, "n", 10000, 0, 10_000_000)
    return JsonResponse({"n": limit, "primes": count_primes(limit)})


@require_POST
def aggregate(request):
    try:
        return JsonResponse(work.aggregate(work.body(request)))
    except work.BadBody as error:
        return JsonResponse({"error": str(error)}, status=400)


@require_POST
def predict(request):
    try:
        return JsonResponse(work.predict(work.body(request)))
    except work.BadBody as error:
        return JsonResponse({"error": str(error)}, status=400)


@require_POST
def predict_image(request):
    try:
        return JsonResponse(work.classify(request.content_type, work.body(request)))
    except work.BadBody as error:
        return JsonResponse({"error": str(error)}, status=400)
