//! The checks of docs/spec.md's `data` (`POST /aggregate`), `ml` (`POST /predict`) and
//! `ml-image` (`POST /predict/image`): the lab's bodies answered exactly (money within a cent,
//! probabilities within the reference's tolerance), and every malformed body the spec lists refused with a 400 and a JSON `error`,
//! after which the server still answers a correct request.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

use super::post::{post, Answer};
use crate::models;
use crate::orders;

/// Longest a check's request may take: the lab's CSV on a slow stack, or a body over the limit.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The spec's body with a tie at the top of north/books and `east` before `north`.
const TIE_BODY: &str = "order_id,customer,region,category,quantity,unit_price,ts\n\
1,C0002,north,books,1,0.10,2026-01-01T00:00:00Z\n\
2,C0002,north,books,1,0.20,2026-01-01T00:00:01Z\n\
3,C0001,north,books,1,0.30,2026-01-01T00:00:02Z\n\
4,C0003,east,toys,2,1.25,2026-01-01T00:00:03Z\n";

/// Rows of a body over the `data` scenario's 8 MiB limit (8,964,922 bytes).
const OVERSIZE_ROWS: u64 = 160_000;

/// Largest `ml` and `ml-image` body a stack must take: 1 MiB.
const PREDICT_LIMIT: usize = 1_048_576;

/// `POST /aggregate`: the lab's body, a header-only body, the tie body, then each malformed
/// body followed by a correct request.
pub fn data(addr: SocketAddr) -> Result<(), String> {
    aggregate_right(addr, models::orders_body(), "the lab's body")?;
    aggregate_right(addr, &format!("{}\n", orders::HEADER), "a header-only body")?;
    aggregate_right(addr, TIE_BODY, "the spec's tie body")?;
    let line = "1,C0002,north,books,1,0.10,2026-01-01T00:00:00Z";
    let with = |l: &str| format!("{}\n{l}\n", orders::HEADER);
    let bad: Vec<(&str, String)> = vec![
        ("an empty body", String::new()),
        (
            "a header with `id` for `order_id`",
            format!("{}\n{line}\n", orders::HEADER.replacen("order_id", "id", 1)),
        ),
        ("a line without `ts`", with("1,C0002,north,books,1,0.10")),
        ("a line with an eighth field", with(&format!("{line},x"))),
        (
            "a quantity of `three`",
            with("1,C0002,north,books,three,0.10,2026-01-01T00:00:00Z"),
        ),
        (
            "a unit_price of `abc`",
            with("1,C0002,north,books,1,abc,2026-01-01T00:00:00Z"),
        ),
        (
            "an empty customer",
            with("1,,north,books,1,0.10,2026-01-01T00:00:00Z"),
        ),
        (
            "an unterminated quote",
            with("1,\"C0001,north,books,1,0.10,2026-01-01T00:00:00Z"),
        ),
    ];
    for (what, body) in &bad {
        refused(addr, "/aggregate", "text/csv", body.as_bytes(), what)?;
        aggregate_right(addr, TIE_BODY, &format!("a correct body after {what}"))?;
    }
    let oversize = orders::body(orders::SEED, OVERSIZE_ROWS);
    let what = format!("a body of {} bytes (over 8 MiB)", oversize.len());
    refused(addr, "/aggregate", "text/csv", oversize.as_bytes(), &what)?;
    aggregate_right(addr, TIE_BODY, &format!("a correct body after {what}"))
}

/// `POST /predict`: each of the load's eight batches, all 256 rows at once, then each malformed
/// body followed by a correct request.
pub fn ml(addr: SocketAddr) -> Result<(), String> {
    let reference = models::reference();
    for (range, body) in reference.batches() {
        predict_right(addr, &body, range.clone(), &format!("rows {range:?}"))?;
    }
    let all = 0..reference.rows.len();
    predict_right(addr, &reference.body(all.clone()), all, "all 256 rows")?;
    let row = |numbers: Vec<Value>| serde_json::json!({ "rows": [numbers] }).to_string();
    let first: Vec<Value> = reference.rows[0]
        .iter()
        .map(|&x| serde_json::json!(x as i64))
        .collect();
    let mut too_many = reference.rows.clone();
    too_many.push(reference.rows[0].clone());
    let replaced = |v: Value| {
        let mut r = first.clone();
        r[0] = v;
        row(r)
    };
    let string_first = replaced(Value::String("0".into()));
    let null_first = replaced(Value::Null);
    let padded = {
        let body = row(first.clone());
        let pad = PREDICT_LIMIT + 1 - body.len();
        format!("{}{}", body, " ".repeat(pad))
    };
    let bad: Vec<(&str, String)> = vec![
        ("broken JSON", "{\"rows\":".into()),
        ("an array for the body", "[]".into()),
        ("no rows", "{\"rows\":[]}".into()),
        (
            "257 rows",
            serde_json::json!({ "rows": too_many }).to_string(),
        ),
        ("a row of 63 numbers", row(first[..63].to_vec())),
        ("a row of 65 numbers", {
            let mut r = first.clone();
            r.push(serde_json::json!(0));
            row(r)
        }),
        ("a row whose first number is the string \"0\"", string_first),
        ("a row whose first number is null", null_first),
        ("a body of 1 MiB + 1 byte", padded),
    ];
    let batch = reference.batches().swap_remove(0);
    for (what, body) in &bad {
        refused(addr, "/predict", "application/json", body.as_bytes(), what)?;
        predict_right(
            addr,
            &batch.1,
            batch.0.clone(),
            &format!("a correct body after {what}"),
        )?;
    }
    Ok(())
}

/// `POST /predict/image`: each of the reference's images, then each malformed body followed by
/// a correct request.
pub fn ml_image(addr: SocketAddr) -> Result<(), String> {
    let reference = models::image_reference();
    let bodies = models::bodies(stackwise_results::catalogue::Body::Image);
    for (i, body) in bodies.iter().enumerate() {
        let what = format!("the image of seed {}", reference.images[i].seed);
        image_right(addr, body, i, &what)?;
    }
    let image = &bodies[0];
    let bad: Vec<(&str, &str, Vec<u8>)> = vec![
        ("an empty body", OCTETS, Vec::new()),
        (
            "an image less its last 4 bytes",
            OCTETS,
            image[..image.len() - 4].to_vec(),
        ),
        (
            "an image and 4 bytes more",
            OCTETS,
            [&image[..], &[0u8; 4]].concat(),
        ),
        (
            "an image and 1 byte more",
            OCTETS,
            [&image[..], &[0u8; 1]].concat(),
        ),
        (
            "an image sent as application/json",
            "application/json",
            image.clone(),
        ),
        ("an image sent as text/plain", "text/plain", image.clone()),
        (
            "a body of 1 MiB + 1 byte",
            OCTETS,
            vec![0u8; PREDICT_LIMIT + 1],
        ),
    ];
    for (what, content_type, body) in &bad {
        refused(addr, "/predict/image", content_type, body, what)?;
        image_right(addr, image, 0, &format!("a correct image after {what}"))?;
    }
    Ok(())
}

/// The `ml-image` body's media type.
const OCTETS: &str = "application/octet-stream";

/// Sends reference image `index` and checks the five classes.
fn image_right(addr: SocketAddr, body: &[u8], index: usize, what: &str) -> Result<(), String> {
    let json = ok_json(
        post(addr, "/predict/image", OCTETS, body, TIMEOUT)?,
        "/predict/image",
        what,
    )?;
    models::image_reference()
        .check(&json, index)
        .map_err(|e| format!("POST /predict/image of {what}: {e}"))
}

/// Sends `body` to `/aggregate` and checks the answer against the exact one.
fn aggregate_right(addr: SocketAddr, body: &str, what: &str) -> Result<(), String> {
    let (count, groups) = orders::answer(body).map_err(|e| format!("{what}: {e}"))?;
    let json = ok_json(
        post(addr, "/aggregate", "text/csv", body.as_bytes(), TIMEOUT)?,
        "/aggregate",
        what,
    )?;
    orders::check(&json, count, &groups).map_err(|e| format!("POST /aggregate of {what}: {e}"))
}

/// Sends `body` (reference rows `range`) to `/predict` and checks every prediction.
fn predict_right(
    addr: SocketAddr,
    body: &str,
    range: std::ops::Range<usize>,
    what: &str,
) -> Result<(), String> {
    let json = ok_json(
        post(
            addr,
            "/predict",
            "application/json",
            body.as_bytes(),
            TIMEOUT,
        )?,
        "/predict",
        what,
    )?;
    models::reference()
        .check(&json, range)
        .map_err(|e| format!("POST /predict of {what}: {e}"))
}

/// The JSON of a 200 answer of `application/json`, or why it is not one.
fn ok_json(answer: Answer, path: &str, what: &str) -> Result<Value, String> {
    if answer.status != 200 {
        return Err(format!(
            "POST {path} of {what} answered {}: {}",
            answer.status,
            super::snippet(&answer.body)
        ));
    }
    if answer.media_type() != "application/json" {
        return Err(format!(
            "POST {path} of {what}: Content-Type is '{}', expected 'application/json'",
            answer.headers.get("content-type").map_or("", |t| t)
        ));
    }
    serde_json::from_str(&answer.body).map_err(|_| {
        format!(
            "POST {path} of {what}: the body is not JSON: {}",
            super::snippet(&answer.body)
        )
    })
}

/// Sends a malformed `body` and checks it is refused as the spec says: 400, JSON, an `error`
/// that is a non-empty string.
fn refused(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: &[u8],
    what: &str,
) -> Result<(), String> {
    let answer = post(addr, path, content_type, body, TIMEOUT)
        .map_err(|e| format!("{e} (sending {what}, which must get a 400)"))?;
    if answer.status != 400 {
        return Err(format!(
            "POST {path} of {what} answered {}, expected 400: {}",
            answer.status,
            super::snippet(&answer.body)
        ));
    }
    let error = serde_json::from_str::<Value>(&answer.body)
        .ok()
        .filter(|_| answer.media_type() == "application/json")
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string));
    match error {
        Some(e) if !e.trim().is_empty() => Ok(()),
        _ => Err(format!(
            "POST {path} of {what}: the 400's body must be JSON (application/json) with a \
             non-empty string `error`, got '{}': {}",
            answer.headers.get("content-type").map_or("", |t| t),
            super::snippet(&answer.body)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tie_body_is_the_spec_s() {
        let (orders, groups) = orders::answer(TIE_BODY).unwrap();
        assert_eq!(orders, 4);
        assert_eq!(groups.len(), 2);
        assert_eq!(
            orders::body(orders::SEED, OVERSIZE_ROWS).len(),
            8_964_922,
            "the spec's oversize body"
        );
    }
}
