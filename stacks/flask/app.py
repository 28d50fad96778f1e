"""The stackwise API on Flask: psycopg 3 with a per-worker pool, Jinja2 templates, requests,
pandas for the orders and onnxruntime for the digits model."""

import functools
import io
import os
import re
import warnings
from operator import itemgetter
from random import randint, sample
from threading import Lock

import numpy as np
import onnxruntime
import pandas as pd
import requests
from flask import Flask, Response, abort, jsonify, render_template, request
from flask_sock import Sock
from psycopg_pool import ConnectionPool
from simple_websocket import ConnectionClosed
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge


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


def load_model(name: str) -> onnxruntime.InferenceSession:
    """A model of $MODELS_DIR, one intra-op and one inter-op thread: a worker per
    CPU already keeps the CPUs busy."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    path = os.path.join(os.environ["MODELS_DIR"], name)
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


# Loaded here, like the pool: in each worker after the fork, never in gunicorn's arbiter.
model = load_model("digits.onnx")
# docs/spec.md's `ml-image`: the synthetic SqueezeNet, the same library and threads.
image_model = load_model("squeezenet.onnx")

app = Flask(__name__)
# Flask's own body limit, for /aggregate (/predict lowers it for its request). Past it Flask
# raises 413, which refused() answers as docs/spec.md's 400.
app.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024
PREDICT_LIMIT = 1024 * 1024
# POST /predict/image: one float32 image [1, 3, 224, 224], little-endian, 602,112 bytes.
IMAGE_SHAPE = (1, 3, 224, 224)
IMAGE_BYTES = 4 * 3 * 224 * 224

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


@app.errorhandler(BadRequest)
@app.errorhandler(RequestEntityTooLarge)
def refused(error):
    # docs/spec.md: every malformed body, a too large one included, gets a 400 with a JSON error.
    return jsonify(error=error.description), 400


ORDER_COLUMNS = ["order_id", "customer", "region", "category", "quantity", "unit_price", "ts"]
ORDER_TYPES = {
    "order_id": "int64",
    "customer": str,
    "region": str,
    "category": str,
    "quantity": "int64",
    "unit_price": "float64",
    "ts": str,
}
GROUP = ["region", "category"]
# With index_col=False, read_csv drops an eighth field on the first order with a ParserWarning;
# as an error it refuses the body. Set once for the process rather than per request with
# catch_warnings, which is not thread-safe (the gthread worker of flask-gthread).
warnings.simplefilter("error", pd.errors.ParserWarning)


@app.post("/aggregate")
def aggregate():
    try:
        orders = pd.read_csv(
            io.BytesIO(request.get_data()),
            dtype=ORDER_TYPES,
            # The header's columns, never the first field as the index.
            index_col=False,
            # Only an empty field is missing: "NA" or "null" would be words like any other.
            keep_default_na=False,
            na_values=[""],
        )
    except pd.errors.ParserWarning:
        abort(400, "the first order has more than seven fields")
    except ValueError as error:  # pandas' ParserError and EmptyDataError among them
        abort(400, f"not a CSV of orders: {str(error).strip()}")
    # pandas takes another header, a short line or an empty field without complaint; a later
    # line with an eighth field is a ParserError.
    if list(orders.columns) != ORDER_COLUMNS:
        abort(400, "the first line is not the header " + ",".join(ORDER_COLUMNS))
    if orders.isna().any(axis=None):
        abort(400, "a line has an empty field or fewer than seven fields")

    orders["revenue"] = orders["quantity"] * orders["unit_price"]
    groups = orders.groupby(GROUP).agg(count=("revenue", "size"), revenue=("revenue", "sum"))
    groups["mean_order_value"] = groups["revenue"] / groups["count"]
    # Customers compared in whole cents; on a tie the lowest id wins.
    customers = orders.groupby([*GROUP, "customer"], as_index=False)["revenue"].sum()
    customers["revenue"] = customers["revenue"].round(2)
    top = (
        customers.sort_values([*GROUP, "revenue", "customer"], ascending=[True, True, False, True])
        .drop_duplicates(GROUP)
        .set_index(GROUP)
    )
    groups["top_customer"] = top["customer"]
    groups["top_customer_revenue"] = top["revenue"]
    groups = groups.round({"revenue": 2, "mean_order_value": 2}).reset_index()
    return jsonify(orders=len(orders), groups=groups.to_dict("records"))


@app.post("/predict")
def predict():
    request.max_content_length = PREDICT_LIMIT
    payload = request.get_json(silent=True)  # None if the body is not JSON
    rows = payload.get("rows") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        abort(400, 'the body is not a JSON object with an array "rows"')
    if not 1 <= len(rows) <= 256:
        abort(400, f'"rows" holds {len(rows)} rows, not 1 to 256')
    for i, row in enumerate(rows):
        # type(), not isinstance(): a bool is an int in Python.
        numbers = isinstance(row, list) and all(type(x) in (int, float) for x in row)
        if not numbers or len(row) != 64:
            abort(400, f"row {i} is not an array of 64 numbers")
    try:
        pixels = np.array(rows, dtype=np.float32)
    except OverflowError:
        abort(400, "a number is too large")
    labels, probabilities = model.run(["label", "probabilities"], {"input": pixels})
    return jsonify(
        predictions=[
            {"label": int(label), "probabilities": p.tolist()}
            for label, p in zip(labels, probabilities)
        ]
    )


@app.post("/predict/image")
def predict_image():
    request.max_content_length = PREDICT_LIMIT
    if request.mimetype != "application/octet-stream":
        abort(400, "the body must be application/octet-stream")
    body = request.get_data()
    if len(body) != IMAGE_BYTES:
        abort(400, f"the body is {len(body)} bytes, not {IMAGE_BYTES}")
    image = np.frombuffer(body, dtype="<f4").reshape(IMAGE_SHAPE)
    (probabilities,) = image_model.run(["softmaxout_1"], {"data_0": image})
    probabilities = probabilities.reshape(-1)
    # The five most probable classes, most probable first (a tie: the lower class first).
    top = np.argsort(-probabilities, kind="stable")[:5]
    return jsonify(
        top5=[{"label": int(i), "probability": float(probabilities[i])} for i in top]
    )


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
