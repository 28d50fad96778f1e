"""The stackwise API as async Django views, on the same models, URLs and template as the WSGI stack.

The ORM calls are Django's async API (aget, abulk_update, async for); Django runs the queries
in a thread of its own internally. Template rendering has no async API and does no I/O: it is
called as is, as Django users do.
"""

import os
import re
from operator import attrgetter
from random import randint, sample

import httpx
from asgiref.sync import sync_to_async
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from . import work
from .models import Fortune, World

UPSTREAM_URL = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8080").rstrip("/")
# One keep-alive client per worker process for the upstream calls. The delay service may take
# 10 s to answer, past httpx's 5 s default; the pool keeps httpx's default limits, as FastAPI's.
http = httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=httpx.Timeout(30.0, connect=5.0))

_INTEGER = re.compile(r"[+-]?[0-9]+")


def int_param(request, name, default, low, high):
    """Parse a query parameter: missing or not an integer gives the default, then clamp."""
    raw = request.GET.get(name)
    value = int(raw) if raw is not None and _INTEGER.fullmatch(raw) else default
    return max(low, min(value, high))


def random_id():
    return randint(1, 10000)


async def json_view(request):
    return JsonResponse({"message": "Hello, World!"})


async def plaintext(request):
    return HttpResponse("Hello, World!", content_type="text/plain")


async def single_query(request):
    world = await World.objects.aget(id=random_id())
    return JsonResponse(world.to_dict())


async def multiple_queries(request):
    count = int_param(request, "n", 1, 1, 500)
    worlds = [(await World.objects.aget(id=random_id())).to_dict() for _ in range(count)]
    return JsonResponse(worlds, safe=False)


async def fortunes(request):
    fortunes = [fortune async for fortune in Fortune.objects.all()]
    fortunes.append(Fortune(id=0, message="Additional fortune added at request time."))
    fortunes.sort(key=attrgetter("message"))
    return render(request, "fortunes.html", {"fortunes": fortunes})


async def updates(request):
    count = int_param(request, "n", 1, 1, 500)
    # Distinct ids, so that every returned number is the one the database keeps.
    ids = sorted(sample(range(1, 10001), count))
    worlds = [await World.objects.aget(id=world_id) for world_id in ids]
    for world in worlds:
        world.random_number = random_id()
    await World.objects.abulk_update(worlds, ["random_number"])
    return JsonResponse([world.to_dict() for world in worlds], safe=False)


async def upstream(request):
    delay = int_param(request, "ms", 0, 0, 10000)
    reply = await http.get("/delay", params={"ms": delay})
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


async def cpu(request):
    # Counted on the event loop, as an async view does: the mixed scenario measures what that
    # costs the requests waiting behind it.
    limit = int_param(request, "n", 10000, 0, 10_000_000)
    return JsonResponse({"n": limit, "primes": count_primes(limit)})


# pandas and onnxruntime hold the CPU for milliseconds to tens of milliseconds: on the event loop
# they would stall the worker's other requests. So the work runs in a thread through
# sync_to_async, Django's adapter for sync code in async views, and the loop serves other
# requests meanwhile (read_csv's parser and onnxruntime's run release the GIL).
@require_POST
async def aggregate(request):
    try:
        return JsonResponse(await sync_to_async(work.aggregate)(work.body(request)))
    except work.BadBody as error:
        return JsonResponse({"error": str(error)}, status=400)


@require_POST
async def predict(request):
    try:
        return JsonResponse(await sync_to_async(work.predict)(work.body(request)))
    except work.BadBody as error:
        return JsonResponse({"error": str(error)}, status=400)


@require_POST
async def predict_image(request):
    try:
        classify = sync_to_async(work.classify)
        return JsonResponse(await classify(request.content_type, work.body(request)))
    except work.BadBody as error:
        return JsonResponse({"error": str(error)}, status=400)
