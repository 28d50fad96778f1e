"""docs/spec.md's `data`, `ml` and `ml-image` work, shared by the views of the WSGI stack and of
its ASGI variant: pandas aggregates the orders, onnxruntime runs the digits model and the
synthetic SqueezeNet. A malformed body raises
BadBody, which the views answer with a 400 and its message."""

import io
import json
import os
import warnings

import numpy as np
import onnxruntime
import pandas as pd
from django.conf import settings
from django.core.exceptions import RequestDataTooBig

# Bodies over settings.DATA_UPLOAD_MAX_MEMORY_SIZE (8 MiB, /aggregate's limit) raise
# RequestDataTooBig when read; /predict's smaller limit is checked on the body read.
PREDICT_LIMIT = 1024 * 1024
# POST /predict/image: one float32 image [1, 3, 224, 224], little-endian, 602,112 bytes.
IMAGE_SHAPE = (1, 3, 224, 224)
IMAGE_BYTES = 4 * 3 * 224 * 224

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
# catch_warnings, which is not thread-safe (django-asgi runs the work in threads).
warnings.simplefilter("error", pd.errors.ParserWarning)

# The worker process's sessions, loaded by WorldConfig.ready().
model = None
image_model = None


class BadBody(ValueError):
    """A malformed body; the message says what is wrong."""


def load_model():
    """Loads the digits model and the synthetic SqueezeNet from $MODELS_DIR, one intra-op and
    one inter-op thread each: a worker per CPU already keeps the CPUs busy."""
    global model, image_model
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1

    def session(name):
        path = os.path.join(os.environ["MODELS_DIR"], name)
        return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    model = session("digits.onnx")
    image_model = session("squeezenet.onnx")


def body(request):
    """The request's body, read by Django within its limit."""
    try:
        return request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise BadBody(f"the body is over {limit:,} bytes") from None


def aggregate(body):
    """The totals of a CSV of orders by region and category."""
    try:
        orders = pd.read_csv(
            io.BytesIO(body),
            dtype=ORDER_TYPES,
            # The header's columns, never the first field as the index.
            index_col=False,
            # Only an empty field is missing: "NA" or "null" would be words like any other.
            keep_default_na=False,
            na_values=[""],
        )
    except pd.errors.ParserWarning:
        raise BadBody("the first order has more than seven fields") from None
    except ValueError as error:  # pandas' ParserError and EmptyDataError among them
        raise BadBody(f"not a CSV of orders: {str(error).strip()}") from None
    # pandas takes another header, a short line or an empty field without complaint; a later
    # line with an eighth field is a ParserError.
    if list(orders.columns) != ORDER_COLUMNS:
        raise BadBody("the first line is not the header " + ",".join(ORDER_COLUMNS))
    if orders.isna().any(axis=None):
        raise BadBody("a line has an empty field or fewer than seven fields")

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
    return {"orders": len(orders), "groups": groups.to_dict("records")}


def predict(body):
    """The model's label and probabilities for each row of a JSON body of digit rows."""
    if len(body) > PREDICT_LIMIT:
        raise BadBody("the body is over 1 MiB")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    rows = payload.get("rows") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise BadBody('the body is not a JSON object with an array "rows"')
    if not 1 <= len(rows) <= 256:
        raise BadBody(f'"rows" holds {len(rows)} rows, not 1 to 256')
    for i, row in enumerate(rows):
        # type(), not isinstance(): a bool is an int in Python.
        numbers = isinstance(row, list) and all(type(x) in (int, float) for x in row)
        if not numbers or len(row) != 64:
            raise BadBody(f"row {i} is not an array of 64 numbers")
    try:
        pixels = np.array(rows, dtype=np.float32)
    except OverflowError:
        raise BadBody("a number is too large") from None
    labels, probabilities = model.run(["label", "probabilities"], {"input": pixels})
    return {
        "predictions": [
            {"label": int(label), "probabilities": p.tolist()}
            for label, p in zip(labels, probabilities)
        ]
    }


def classify(content_type, body):
    """The five most probable classes of a raw float32 image (most probable first; a tie: the
    lower class first)."""
    if len(body) > PREDICT_LIMIT:
        raise BadBody("the body is over 1 MiB")
    if content_type != "application/octet-stream":
        raise BadBody("the body must be application/octet-stream")
    if len(body) != IMAGE_BYTES:
        raise BadBody(f"the body is {len(body)} bytes, not {IMAGE_BYTES}")
    image = np.frombuffer(body, dtype="<f4").reshape(IMAGE_SHAPE)
    (probabilities,) = image_model.run(["softmaxout_1"], {"data_0": image})
    probabilities = probabilities.reshape(-1)
    top = np.argsort(-probabilities, kind="stable")[:5]
    return {"top5": [{"label": int(i), "probability": float(probabilities[i])} for i in top]}
