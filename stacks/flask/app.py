"""The stackwise API on Flask: psycopg 3 with a per-worker pool, Jinja2 templates, requests."""

import functools
import os
import re
from operator import itemgetter
from random import randint, sample
from threading import Lock

import requests
from flask import Flask, Response, jsonify, render_template, request
from flask_sock import Sock
from psycopg_pool import ConnectionPool
from simple_websocket import ConnectionClosed


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

READ_ROW = "SELECT id, randomnumber FROM world WHERE id = %s"
WRITE_ROW = "UPDATE world SET randomnumber = %s WHERE id = %s"
READ_FORTUNES = "SELECT id, message FROM fortune"
ADDITIONAL_FORTUNE = (0, "Additional fortune added at request time.")

# gunicorn imports this module in each worker after the fork (no --preload), so every
# worker gets its own pool. A sync worker serves one request at a time: one connection.
pool = ConnectionPool(
    database_url(), min_size=1, max_size=1, kwargs={"autocommit": True}, open=True
)
# One keep-alive session per worker for the upstream calls.
http = requests.Session()

app = Flask(__name__)

_INTEGER = re.compile(r"[+-]?[0-9]+")


def int_param(name: str, default: int, low: int, high: int) -> int:
    """Parse a query parameter: missing or not an integer gives the default, then clamp."""
    raw = request.args.get(name)
    value = int(raw) if raw is not None and _INTEGER.fullmatch(raw) else default
    return max(low, min(value, high))


def random_id() -> int:
    return randint(1, 10000)


@app.get("/json")
def json_():
    return jsonify(message="Hello, World!")


@app.get("/plaintext")
def plaintext():
    return Response("Hello, World!", mimetype="text/plain")


@app.get("/db")
def single_query():
    with pool.connection() as conn:
        world_id, number = conn.execute(READ_ROW, (random_id(),)).fetchone()
    return jsonify(id=world_id, randomNumber=number)


@app.get("/queries")
def multiple_queries():
    count = int_param("n", 1, 1, 500)
    worlds = []
    with pool.connection() as conn, conn.cursor() as cur:
        for _ in range(count):
            world_id, number = cur.execute(READ_ROW, (random_id(),)).fetchone()
            worlds.append({"id": world_id, "randomNumber": number})
    return jsonify(worlds)


@app.get("/fortunes")
def fortunes():
    with pool.connection() as conn:
        rows = conn.execute(READ_FORTUNES).fetchall()
    rows.append(ADDITIONAL_FORTUNE)
    rows.sort(key=itemgetter(1))
    return render_template("fortunes.html", fortunes=rows)


@app.get("/updates")
def updates():
    count = int_param("n", 1, 1, 500)
    # Distinct ids, so that every returned number is the one the database keeps.
    ids = sorted(sample(range(1, 10001), count))
    worlds = []
    with pool.connection() as conn:
        with conn.cursor() as cur:
            for world_id in ids:
                world_id, _ = cur.execute(READ_ROW, (world_id,)).fetchone()
                worlds.append({"id": world_id, "randomNumber": random_id()})
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(WRITE_ROW, [(w["randomNumber"], w["id"]) for w in worlds])
    return jsonify(worlds)


@app.get("/upstream")
def upstream():
    delay = int_param("ms", 0, 0, 10000)
    reply = http.get(f"{UPSTREAM_URL}/delay", params={"ms": delay}, timeout=(5, 30))
    reply.raise_for_status()
    return Response(reply.content, mimetype="application/json")


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
def cpu():
    limit = int_param("n", 10000, 0, 10_000_000)
    return jsonify(n=limit, primes=count_primes(limit))


# docs/spec.md's WebSocket endpoints with flask-sock: each connected client holds one of
# gunicorn's threads for as long as it stays (stack.toml sizes them). A room lives in this
# process (the stack runs one for WebSockets): its members, and a lock under which a message
# goes to every member before the next one, so all members share one order.
sock = Sock(app)
ROOM_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


@app.before_request
def refuse_compression():
    # simple-websocket accepts a client's permessage-deflate offer and has no setting to refuse
    # it; docs/spec.md fixes compression off for every stack, so the offer is dropped before
    # flask-sock answers the handshake (as a proxy in front would).
    if request.path.startswith("/ws/"):
        request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


class Room:
    def __init__(self) -> None:
        self.members: set = set()
        self.lock = Lock()


ROOMS: dict[str, Room] = {}
ROOMS_LOCK = Lock()


def answer_close(handler):
    # simple-websocket wakes receive() with ConnectionClosed before its reader thread has written
    # the answer to the client's close frame, and gunicorn closes the socket as soon as the
    # handler returns: without this wait the client sees the connection end without a close
    # handshake now and then. The reader thread ends right after writing the answer.
    @functools.wraps(handler)
    def wrapper(ws, *args, **kwargs):
        try:
            handler(ws, *args, **kwargs)
        except ConnectionClosed:
            ws.thread.join(timeout=1)

    return wrapper


@sock.route("/ws/echo")
@answer_close
def ws_echo(ws):
    while True:
        ws.send(ws.receive())


@sock.route("/ws/room/<room_id>")
@answer_close
def ws_room(ws, room_id):
    if not ROOM_ID.fullmatch(room_id):
        ws.close(1008)
        return
    with ROOMS_LOCK:
        room = ROOMS.setdefault(room_id, Room())
        with room.lock:
            room.members.add(ws)
    try:
        while True:
            text = ws.receive()
            with room.lock:
                for member in room.members:
                    try:
                        member.send(text)
                    except Exception:
                        # A member that left mid-send is removed by its own handler.
                        pass
    finally:
        with ROOMS_LOCK, room.lock:
            room.members.discard(ws)
            if not room.members and ROOMS.get(room_id) is room:
                del ROOMS[room_id]
