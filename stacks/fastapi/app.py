"""The stackwise API on FastAPI: asyncpg pool, Jinja2 templates, one shared httpx client."""

import os
import re
from contextlib import asynccontextmanager
from operator import itemgetter
from random import randint, sample

import asyncio

import asyncpg
import httpx
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse, Response
from fastapi.templating import Jinja2Templates


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    env = os.environ
    return (
        f"postgres://{env['DB_USER']}:{env['DB_PASSWORD']}"
        f"@{env.get('DB_HOST', '127.0.0.1')}:{env.get('DB_PORT', '5432')}/{env['DB_NAME']}"
    )


UPSTREAM_URL = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8080").rstrip("/")
# Connections per worker process; the lab runs one worker per CPU.
DB_POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", "8"))

READ_ROW = "SELECT id, randomnumber FROM world WHERE id = $1"
WRITE_ROW = "UPDATE world SET randomnumber = $2 WHERE id = $1"
READ_FORTUNES = "SELECT id, message FROM fortune"
ADDITIONAL_FORTUNE = (0, "Additional fortune added at request time.")

_INTEGER = re.compile(r"[+-]?[0-9]+")


def int_param(raw: str | None, default: int, low: int, high: int) -> int:
    """Parse a query parameter: missing or not an integer gives the default, then clamp."""
    value = int(raw) if raw is not None and _INTEGER.fullmatch(raw) else default
    return max(low, min(value, high))


def random_id() -> int:
    return randint(1, 10000)


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.db = await asyncpg.create_pool(
        database_url(), min_size=DB_POOL_SIZE, max_size=DB_POOL_SIZE
    )
    app.state.http = httpx.AsyncClient(
        base_url=UPSTREAM_URL,
        # The delay service may take 10 s to answer; httpx's 5 s default would cut it off.
        # The pool keeps httpx's default limits (100 connections, 20 kept alive): an
        # unbounded pool measured 3 to 5 times slower, its bookkeeping growing with its size.
        timeout=httpx.Timeout(30.0, connect=5.0),
    )
    try:
        yield
    finally:
        await app.state.http.aclose()
        await app.state.db.close()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
templates = Jinja2Templates(directory=os.path.join(os.path.dirname(__file__), "templates"))


@app.get("/json")
async def json_():
    return {"message": "Hello, World!"}


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext():
    return "Hello, World!"


@app.get("/db")
async def single_query(request: Request):
    async with request.app.state.db.acquire() as conn:
        row = await conn.fetchrow(READ_ROW, random_id())
    return {"id": row["id"], "randomNumber": row["randomnumber"]}


@app.get("/queries")
async def multiple_queries(request: Request, n: str | None = None):
    count = int_param(n, 1, 1, 500)
    worlds = []
    async with request.app.state.db.acquire() as conn:
        for _ in range(count):
            row = await conn.fetchrow(READ_ROW, random_id())
            worlds.append({"id": row["id"], "randomNumber": row["randomnumber"]})
    return worlds


@app.get("/fortunes")
async def fortunes(request: Request):
    async with request.app.state.db.acquire() as conn:
        rows = await conn.fetch(READ_FORTUNES)
    rows = [tuple(row) for row in rows]
    rows.append(ADDITIONAL_FORTUNE)
    rows.sort(key=itemgetter(1))
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": rows})


@app.get("/updates")
async def updates(request: Request, n: str | None = None):
    count = int_param(n, 1, 1, 500)
    # Distinct ids, so that every returned number is the one the database keeps.
    ids = sorted(sample(range(1, 10001), count))
    worlds = []
    async with request.app.state.db.acquire() as conn:
        for world_id in ids:
            row = await conn.fetchrow(READ_ROW, world_id)
            worlds.append({"id": row["id"], "randomNumber": random_id()})
        await conn.executemany(WRITE_ROW, [(w["id"], w["randomNumber"]) for w in worlds])
    return worlds


@app.get("/upstream")
async def upstream(request: Request, ms: str | None = None):
    delay = int_param(ms, 0, 0, 10000)
    reply = await request.app.state.http.get("/delay", params={"ms": delay})
    reply.raise_for_status()
    return Response(content=reply.content, media_type="application/json")


def count_primes(n: int) -> int:
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


@app.get("/cpu")
async def cpu(n: str | None = None):
    limit = int_param(n, 10000, 0, 10_000_000)
    return {"n": limit, "primes": count_primes(limit)}


# docs/spec.md's WebSocket endpoints on Starlette's WebSocket. A room lives in this process
# (the stack runs one for WebSockets, stack.toml): its members, and a lock that sends one
# message to every member before the next, so all members get the room's messages in one
# order (without it, two senders' broadcasts interleave at every await).
ROOM_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


class Room:
    def __init__(self) -> None:
        self.members: set[WebSocket] = set()
        self.lock = asyncio.Lock()

    async def broadcast(self, text: str) -> None:
        async with self.lock:
            for member in list(self.members):
                try:
                    await member.send_text(text)
                except Exception:
                    # A member that left mid-send is removed by its own handler.
                    pass


ROOMS: dict[str, Room] = {}


@app.websocket("/ws/echo")
async def ws_echo(websocket: WebSocket):
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


@app.websocket("/ws/room/{room_id}")
async def ws_room(websocket: WebSocket, room_id: str):
    if not ROOM_ID.fullmatch(room_id):
        await websocket.close(code=1008)
        return
    await websocket.accept()
    room = ROOMS.setdefault(room_id, Room())
    room.members.add(websocket)
    try:
        while True:
            await room.broadcast(await websocket.receive_text())
    except WebSocketDisconnect:
        pass
    finally:
        room.members.discard(websocket)
        if not room.members and ROOMS.get(room_id) is room:
            del ROOMS[room_id]
