"""The stackwise API on FastAPI: asyncpg pool, Jinja2 templates, one shared httpx client,
pandas (or polars) for POST /aggregate and onnxruntime (or scikit-learn) for POST /predict."""

import io
import json
import os
import re
import warnings
from contextlib import asynccontextmanager
from operator import itemgetter
from random import randint, sample

import asyncio

import asyncpg
import httpx
import numpy as np
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.templating import Jinja2Templates

# The libraries of POST /aggregate and POST /predict; the variants fastapi-polars and
# fastapi-sklearn set these in their stack.toml [env].
DATA_LIBRARY = os.environ.get("DATA_LIBRARY", "pandas")
ML_LIBRARY = os.environ.get("ML_LIBRARY", "onnxruntime")

if DATA_LIBRARY == "pandas":
    import pandas as pd
elif DATA_LIBRARY == "polars":
    import polars as pl
else:
    raise ValueError(f"DATA_LIBRARY must be pandas or polars, not {DATA_LIBRARY!r}")

if ML_LIBRARY == "onnxruntime":
    import onnxruntime
elif ML_LIBRARY == "sklearn":
    import joblib
    from threadpoolctl import threadpool_limits
else:
    raise ValueError(f"ML_LIBRARY must be onnxruntime or sklearn, not {ML_LIBRARY!r}")


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
# "1": GET /cpu counts in Starlette's thread pool instead of on the event loop (the variant
# fastapi-threads, one worker process of threads). Unset: on the event loop.
CPU_IN_THREADS = os.environ.get("CPU_IN_THREADS") == "1"

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


def load_model(models_dir: str):
    """The digits model of docs/spec.md's `ml` scenario, as a function of float32 rows [N, 64]
    giving labels [N] and probabilities [N, 10]."""
    if ML_LIBRARY == "sklearn":
        model = joblib.load(os.path.join(models_dir, "digits.joblib"))
        # One thread per worker process, as for onnxruntime below: limits the BLAS and OpenMP
        # pools that numpy, scipy and scikit-learn have loaded by now.
        threadpool_limits(limits=1)

        def predict(rows):
            probabilities = model.predict_proba(rows)
            return probabilities.argmax(axis=1), probabilities

        return predict
    # One intra-op and one inter-op thread: the lab runs one worker process per CPU, so threads
    # of their own would only compete with the other workers for the same cores.
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        os.path.join(models_dir, "digits.onnx"), options, providers=["CPUExecutionProvider"]
    )

    def predict(rows):
        labels, probabilities = session.run(["label", "probabilities"], {"input": rows})
        return labels, probabilities

    return predict


def load_image_model(models_dir: str):
    """The synthetic SqueezeNet of docs/spec.md's `ml-image` scenario, with the same library
    and threads as the digits model, as a function of a float32 [1, 3, 224, 224] image giving
    the 1000 class probabilities; none for scikit-learn, which cannot run it."""
    if ML_LIBRARY != "onnxruntime":
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        os.path.join(models_dir, "squeezenet.onnx"), options, providers=["CPUExecutionProvider"]
    )

    def classify(image):
        (probabilities,) = session.run(["softmaxout_1"], {"data_0": image})
        return probabilities.reshape(-1)

    return classify


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Runs in each uvicorn worker process: every worker loads the model once, at its start.
    app.state.predict = load_model(os.environ["MODELS_DIR"])
    app.state.classify = load_image_model(os.environ["MODELS_DIR"])
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
    if CPU_IN_THREADS:
        return {"n": limit, "primes": await run_in_threadpool(count_primes, limit)}
    return {"n": limit, "primes": count_primes(limit)}


# docs/spec.md's `data` and `ml` scenarios. A bad body, an oversized one included, gets a 400
# with a JSON `error`. The size limits are checked here: FastAPI's max_body_size answers 413
# whatever the app's exception handlers say once a Content-Length is over it.
AGGREGATE_LIMIT = 8 * 1024 * 1024
PREDICT_LIMIT = 1024 * 1024
ORDER_COLUMNS = ["order_id", "customer", "region", "category", "quantity", "unit_price", "ts"]
MAX_ROWS = 256
PIXELS = 64
# POST /predict/image: one float32 image [1, 3, 224, 224], little-endian, 602,112 bytes.
IMAGE_SHAPE = (1, 3, 224, 224)
IMAGE_BYTES = 4 * 3 * 224 * 224
TOP = 5


class BadBody(Exception):
    """A request body the spec says to refuse; its message is the answer's `error`."""


@app.exception_handler(BadBody)
async def bad_body(request: Request, exc: BadBody):
    return JSONResponse({"error": str(exc)}, status_code=400)


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, refused if over `limit` bytes: by its Content-Length before it is
    read, then by the bytes read."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise BadBody(f"the body is over {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise BadBody(f"the body is over {limit} bytes")
    return body


def aggregate_pandas(body: bytes) -> list[tuple]:
    try:
        with warnings.catch_warnings():
            # An eighth field on the first order is dropped with this warning (index_col=False;
            # by default pandas would read the first column as the index); a later line with
            # eight fields is a ParserError.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.BytesIO(body),
                dtype={"quantity": "int64", "unit_price": "float64"},
                index_col=False,
                # Only an empty field is missing: "NA" or "null" would be words like any other.
                keep_default_na=False,
                na_values=[""],
            )
    except (ValueError, pd.errors.ParserWarning) as error:
        # ValueError: a value of the wrong type, and pandas' ParserError and EmptyDataError.
        raise BadBody(f"not a CSV of orders: {error}") from None
    # read_csv takes another header and fills a short line's missing fields with NaN.
    if list(frame.columns) != ORDER_COLUMNS:
        raise BadBody("the first line is not the header " + ",".join(ORDER_COLUMNS))
    if frame.isna().any(axis=None):
        raise BadBody("a line has an empty or missing field")
    # Money in integer cents: sums are exact and ties at the top compare equal.
    frame["cents"] = frame["quantity"] * (frame["unit_price"] * 100).round().astype("int64")
    keys = ["region", "category"]
    groups = frame.groupby(keys).agg(count=("cents", "size"), cents=("cents", "sum"))
    by_customer = frame.groupby([*keys, "customer"], as_index=False)["cents"].sum()
    # Highest revenue first and, among equals, the lowest id: each group's first row is its top.
    top = (
        by_customer.sort_values(["cents", "customer"], ascending=[False, True])
        .groupby(keys)
        .first()
    )
    groups = groups.join(top, rsuffix="_top")
    return [
        (region, category, count, cents, customer, top_cents)
        for (region, category), count, cents, customer, top_cents in zip(
            groups.index,
            groups["count"].tolist(),
            groups["cents"].tolist(),
            groups["customer"].tolist(),
            groups["cents_top"].tolist(),
        )
    ]


def aggregate_polars(body: bytes) -> list[tuple]:
    try:
        frame = pl.read_csv(body, schema_overrides={"quantity": pl.Int64, "unit_price": pl.Float64})
    except pl.exceptions.PolarsError as error:
        raise BadBody(f"not a CSV of orders: {error}") from None
    # read_csv takes another header and fills a short line's missing fields with nulls.
    if frame.columns != ORDER_COLUMNS:
        raise BadBody("the first line is not the header " + ",".join(ORDER_COLUMNS))
    if frame.null_count().sum_horizontal().item():
        raise BadBody("a line has an empty or missing field")
    # Money in integer cents: sums are exact and ties at the top compare equal.
    frame = frame.with_columns(
        cents=pl.col("quantity") * (pl.col("unit_price") * 100).round().cast(pl.Int64)
    )
    keys = ["region", "category"]
    groups = frame.group_by(keys).agg(count=pl.len(), cents=pl.col("cents").sum())
    # Highest revenue first and, among equals, the lowest id: each group's first row is its top.
    top = (
        frame.group_by([*keys, "customer"])
        .agg(pl.col("cents").sum())
        .sort(["cents", "customer"], descending=[True, False])
        .group_by(keys, maintain_order=True)
        .first()
    )
    return groups.join(top, on=keys, suffix="_top").sort(keys).rows()


aggregate_orders = aggregate_polars if DATA_LIBRARY == "polars" else aggregate_pandas


# `async def`, as FastAPI's docs advise for code that waits on nothing (a plain `def` is for
# blocking I/O, which FastAPI runs in its thread pool). CPU-bound work gets its parallelism from
# processes, as those docs say: uvicorn's one worker per CPU; a thread in the same worker would
# add no CPU to it.
@app.post("/aggregate")
async def aggregate(request: Request):
    groups = aggregate_orders(await read_body(request, AGGREGATE_LIMIT))
    return {
        "orders": sum(group[2] for group in groups),
        "groups": [
            {
                "region": region,
                "category": category,
                "count": count,
                "revenue": cents / 100,
                "mean_order_value": round(cents / count / 100, 2),
                "top_customer": customer,
                "top_customer_revenue": top_cents / 100,
            }
            for region, category, count, cents, customer, top_cents in groups
        ],
    }


def pixel_rows(body: bytes) -> np.ndarray:
    """The request's rows as float32 [N, 64], or BadBody saying what is wrong."""
    try:
        batch = json.loads(body)
    except ValueError:
        raise BadBody("the body is not JSON") from None
    rows = batch.get("rows") if isinstance(batch, dict) else None
    if not isinstance(rows, list):
        raise BadBody('the body is not a JSON object with an array "rows"')
    if not 1 <= len(rows) <= MAX_ROWS:
        raise BadBody(f"rows holds {len(rows)} rows, not 1 to {MAX_ROWS}")
    for row in rows:
        # type(), not isinstance(): a JSON true is a bool, which is an int in Python.
        if (
            type(row) is not list
            or len(row) != PIXELS
            or not all(type(x) is int or type(x) is float for x in row)
        ):
            raise BadBody(f"a row is not an array of {PIXELS} numbers")
    return np.array(rows, dtype=np.float32)


@app.post("/predict")
async def predict(request: Request):
    rows = pixel_rows(await read_body(request, PREDICT_LIMIT))
    labels, probabilities = request.app.state.predict(rows)
    return {
        "predictions": [
            {"label": label, "probabilities": row}
            for label, row in zip(labels.tolist(), probabilities.tolist())
        ]
    }


def image_tensor(content_type: str, body: bytes) -> np.ndarray:
    """The request's image as float32 [1, 3, 224, 224], or BadBody saying what is wrong."""
    if content_type.split(";")[0].strip().lower() != "application/octet-stream":
        raise BadBody("the body must be application/octet-stream")
    if len(body) != IMAGE_BYTES:
        raise BadBody(f"the body is {len(body)} bytes, not {IMAGE_BYTES}")
    return np.frombuffer(body, dtype="<f4").reshape(IMAGE_SHAPE)


def top_classes(probabilities: np.ndarray) -> dict:
    """The five most probable classes, most probable first (a tie: the lower class first)."""
    order = np.argsort(-probabilities, kind="stable")[:TOP]
    return {
        "top5": [{"label": int(i), "probability": float(probabilities[i])} for i in order]
    }


@app.post("/predict/image")
async def predict_image(request: Request):
    classify = request.app.state.classify
    if classify is None:
        return JSONResponse({"error": f"{ML_LIBRARY} does not serve /predict/image"}, 404)
    body = await read_body(request, PREDICT_LIMIT)
    image = image_tensor(request.headers.get("content-type", ""), body)
    return top_classes(classify(image))


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
