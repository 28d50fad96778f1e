//! The stackwise API on axum: the ceiling this hardware allows, shown beside the contestants
//! and never recommended. One process, a multi-thread tokio runtime with WORKERS worker threads,
//! tokio-postgres through a deadpool pool with prepared statements, askama for the fortunes
//! page, reqwest for the upstream call. hyper writes the Date header itself (cached, renewed
//! every second); a response mapper adds Server.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_TYPE, SERVER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::future::try_join_all;
use serde::Serialize;

const WORLD_BY_ID: &str = "SELECT id, randomnumber FROM world WHERE id = $1";
const ALL_FORTUNES: &str = "SELECT id, message FROM fortune";
const UPDATE_WORLDS: &str = "UPDATE world SET randomnumber = v.randomnumber \
     FROM unnest($1::int[], $2::int[]) AS v(id, randomnumber) WHERE world.id = v.id";

#[derive(Clone)]
struct App {
    db: Pool,
    http: reqwest::Client,
    upstream: String,
}

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

#[derive(Serialize)]
struct World {
    id: i32,
    #[serde(rename = "randomNumber")]
    random_number: i32,
}

#[derive(Serialize)]
struct Primes {
    n: i64,
    primes: u64,
}

struct Fortune {
    id: i32,
    message: String,
}

#[derive(Template)]
#[template(path = "fortunes.html")]
struct FortunesPage {
    fortunes: Vec<Fortune>,
}

/// Every failure answers 500 and is logged once; requests themselves are never logged.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        eprintln!("request failed: {}", self.0);
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
    }
}

type Params = Query<HashMap<String, String>>;

fn main() {
    let workers = env_or("WORKERS", 0usize);
    let workers = if workers > 0 {
        workers
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_io()
        .enable_time()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(serve()) {
        eprintln!("axum server: {e}");
        std::process::exit(1);
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let port = env_or("PORT", 8080u16);
    let app = App {
        db: pool()?,
        http: reqwest::Client::new(),
        upstream: std::env::var("UPSTREAM_URL")
            .unwrap_or_else(|_| "http://127.0.0.1:9000".into())
            .trim_end_matches('/')
            .to_string(),
    };
    let router = Router::new()
        .route("/json", get(json))
        .route("/plaintext", get(plaintext))
        .route("/db", get(db))
        .route("/queries", get(queries))
        .route("/fortunes", get(fortunes))
        .route("/updates", get(updates))
        .route("/upstream", get(upstream))
        .route("/cpu", get(cpu))
        .layer(map_response(server_header))
        .with_state(app);
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    axum::serve(listener, router).await?;
    Ok(())
}

/// One pool for the process, DB_POOL_MAX connections (16 by default, as the other stacks);
/// each connection keeps its prepared statements.
fn pool() -> Result<Pool, Box<dyn std::error::Error>> {
    let config = match std::env::var("DATABASE_URL") {
        Ok(url) => tokio_postgres::Config::from_str(&url)?,
        Err(_) => {
            let mut c = tokio_postgres::Config::new();
            c.host(env_or("DB_HOST", "127.0.0.1".to_string()))
                .port(env_or("DB_PORT", 5432u16))
                .user(env_or("DB_USER", "postgres".to_string()))
                .password(env_or("DB_PASSWORD", String::new()))
                .dbname(env_or("DB_NAME", "postgres".to_string()));
            c
        }
    };
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Ok(Pool::builder(manager)
        .max_size(env_or("DB_POOL_MAX", 16usize))
        .build()?)
}

async fn server_header(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(SERVER, HeaderValue::from_static("axum"));
    response
}

async fn json() -> Json<Message> {
    Json(Message {
        message: "Hello, World!",
    })
}

async fn plaintext() -> &'static str {
    "Hello, World!"
}

async fn db(State(app): State<App>) -> Result<Json<World>, Failure> {
    let client = app.db.get().await?;
    let statement = client.prepare_cached(WORLD_BY_ID).await?;
    let row = client.query_one(&statement, &[&random_id()]).await?;
    Ok(Json(World {
        id: row.get(0),
        random_number: row.get(1),
    }))
}

/// Reads the rows of `ids`, one query each, pipelined on one connection.
async fn worlds(client: &deadpool_postgres::Client, ids: &[i32]) -> Result<Vec<World>, Failure> {
    let statement = client.prepare_cached(WORLD_BY_ID).await?;
    let statement = &statement;
    let rows = try_join_all(
        ids.iter()
            .map(|id| async move { client.query_one(statement, &[id]).await }),
    )
    .await?;
    Ok(rows
        .iter()
        .map(|row| World {
            id: row.get(0),
            random_number: row.get(1),
        })
        .collect())
}

async fn queries(State(app): State<App>, Query(q): Params) -> Result<Json<Vec<World>>, Failure> {
    let n = int_param(q.get("n"), 1, 1, 500) as usize;
    let ids: Vec<i32> = (0..n).map(|_| random_id()).collect();
    let client = app.db.get().await?;
    Ok(Json(worlds(&client, &ids).await?))
}

async fn updates(State(app): State<App>, Query(q): Params) -> Result<Json<Vec<World>>, Failure> {
    let n = int_param(q.get("n"), 1, 1, 500) as usize;
    // Distinct ids: one row updated twice in one batch could not hold both new numbers.
    let mut ids = std::collections::HashSet::with_capacity(n);
    while ids.len() < n {
        ids.insert(random_id());
    }
    let ids: Vec<i32> = ids.into_iter().collect();
    let client = app.db.get().await?;
    let mut worlds = worlds(&client, &ids).await?;
    for world in &mut worlds {
        world.random_number = random_id();
    }
    // Rows locked in id order, so that concurrent batches cannot deadlock.
    let mut sorted: Vec<(i32, i32)> = worlds.iter().map(|w| (w.id, w.random_number)).collect();
    sorted.sort_unstable();
    let (ids, numbers): (Vec<i32>, Vec<i32>) = sorted.into_iter().unzip();
    let statement = client.prepare_cached(UPDATE_WORLDS).await?;
    client.execute(&statement, &[&ids, &numbers]).await?;
    Ok(Json(worlds))
}

async fn fortunes(State(app): State<App>) -> Result<Response, Failure> {
    let client = app.db.get().await?;
    let statement = client.prepare_cached(ALL_FORTUNES).await?;
    let mut fortunes: Vec<Fortune> = client
        .query(&statement, &[])
        .await?
        .iter()
        .map(|row| Fortune {
            id: row.get(0),
            message: row.get(1),
        })
        .collect();
    drop(client);
    fortunes.push(Fortune {
        id: 0,
        message: "Additional fortune added at request time.".into(),
    });
    // Rust strings compare by bytes, which for UTF-8 is code point order.
    fortunes.sort_unstable_by(|a, b| a.message.cmp(&b.message));
    let html = FortunesPage { fortunes }.render()?;
    Ok((
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response())
}

async fn upstream(State(app): State<App>, Query(q): Params) -> Result<Response, Failure> {
    let ms = int_param(q.get("ms"), 0, 0, 10_000);
    let response = app
        .http
        .get(format!("{}/delay?ms={ms}", app.upstream))
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(Failure(format!("upstream answered {}", response.status())));
    }
    let body = response.bytes().await?;
    Ok((
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response())
}

async fn cpu(Query(q): Params) -> Json<Primes> {
    let n = int_param(q.get("n"), 10_000, 0, 10_000_000);
    Json(Primes {
        n,
        primes: count_primes(n),
    })
}

/// Primes below n, by trial division exactly as docs/spec.md gives it.
fn count_primes(n: i64) -> u64 {
    let mut primes = u64::from(n > 2);
    let mut k = 3;
    while k < n {
        let mut prime = true;
        let mut d = 3;
        while d * d <= k {
            if k % d == 0 {
                prime = false;
                break;
            }
            d += 2;
        }
        if prime {
            primes += 1;
        }
        k += 2;
    }
    primes
}

/// A query parameter as an integer clamped to [min, max]; `fallback` if missing or not an
/// integer. An integer too long for i64 is still an integer: it clamps by its sign.
fn int_param(raw: Option<&String>, fallback: i64, min: i64, max: i64) -> i64 {
    let Some(raw) = raw else { return fallback };
    let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return fallback;
    }
    let value = raw
        .parse::<i64>()
        .unwrap_or(if raw.starts_with('-') { min } else { max });
    value.clamp(min, max)
}

fn random_id() -> i32 {
    fastrand::i32(1..=10_000)
}

fn env_or<T: FromStr>(name: &str, fallback: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(fallback)
}
