//! WebSocket test servers with known behaviour, on 127.0.0.1:0, each on its own thread and
//! runtime: an echo server (optionally stalling once), a broadcast server that delays every
//! fan-out by a fixed time and can drop, duplicate and reorder messages by their number, and
//! servers that refuse the upgrade or break the framing.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocket};
use stackwise_engine::ws::accept_for;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the server does.
#[derive(Clone)]
pub enum WsBehaviour {
    /// Echoes every message; from `stall_after` messages on, once, it stops for `stall`.
    Echo {
        stall_after: Option<(u64, Duration)>,
    },
    /// Answers every message with another one of the same length.
    WrongEcho,
    /// Echoes every message in three frames: its first half, nothing, its second half.
    FragmentedEcho,
    /// Every message goes to every member of its room (the path) after `delay`. The room's
    /// n-th message (from 0) is dropped when `n % 10 == drop`, sent twice when `n % 10 == dup`,
    /// and held back until after the next one when `n % 10 == swap`. From `stall_after`
    /// messages on, once, the room stops for the given time.
    Broadcast {
        delay: Duration,
        drop: Option<u64>,
        dup: Option<u64>,
        swap: Option<u64>,
        stall_after: Option<(u64, Duration)>,
    },
    /// Answers the upgrade with this HTTP status and a short body.
    Status(u16),
    /// Closes the connection as soon as the upgrade request arrives.
    Close,
    /// Accepts the upgrade, then sends a frame with its reserved bits set.
    BrokenFrame,
    /// Accepts the upgrade and then says nothing until the client leaves, except one ping
    /// 100 ms after the upgrade; pongs are counted.
    Idle,
}

impl WsBehaviour {
    pub fn broadcast(delay: Duration) -> WsBehaviour {
        WsBehaviour::Broadcast {
            delay,
            drop: None,
            dup: None,
            swap: None,
            stall_after: None,
        }
    }
}

pub struct WsServer {
    pub addr: SocketAddr,
    /// Upgrades accepted.
    pub upgrades: Arc<AtomicU64>,
    /// Idle: pongs received.
    pub pongs: Arc<AtomicU64>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WsServer {
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }
}

impl Drop for WsServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

type Member = mpsc::UnboundedSender<Vec<u8>>;

#[derive(Default)]
struct Rooms {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
}

struct Room {
    members: Mutex<Vec<Member>>,
    inbox: mpsc::UnboundedSender<Vec<u8>>,
}

pub fn start_ws(behaviour: WsBehaviour) -> WsServer {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let upgrades = Arc::new(AtomicU64::new(0));
    let up = upgrades.clone();
    let pongs = Arc::new(AtomicU64::new(0));
    let pongs_seen = pongs.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let rooms = Arc::new(Rooms::default());
            // Echo counts the messages it echoed (to stall once); idle counts pongs.
            let counted = pongs_seen;
            let serve = async {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let b = behaviour.clone();
                    let (rooms, up, counted) = (rooms.clone(), up.clone(), counted.clone());
                    tokio::spawn(async move {
                        let _ = serve_one(stream, b, rooms, up, counted).await;
                    });
                }
            };
            tokio::select! {
                _ = serve => {}
                _ = shutdown_rx => {}
            }
        });
    });
    WsServer {
        addr: addr_rx.recv().unwrap(),
        upgrades,
        pongs,
        shutdown: Some(shutdown_tx),
        thread: Some(thread),
    }
}

/// Reads the upgrade request; returns its path and key.
async fn read_upgrade(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(_) = req.parse(&buf).ok()? {
            let key = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-key"))
                .map(|h| String::from_utf8_lossy(h.value).to_string())?;
            assert!(
                !req.headers
                    .iter()
                    .any(|h| h.name.eq_ignore_ascii_case("sec-websocket-extensions")),
                "the client must not offer extensions"
            );
            return Some((req.path?.to_string(), key));
        }
    }
}

async fn serve_one(
    mut stream: TcpStream,
    behaviour: WsBehaviour,
    rooms: Arc<Rooms>,
    upgrades: Arc<AtomicU64>,
    counted: Arc<AtomicU64>,
) -> Option<()> {
    if let WsBehaviour::Close = behaviour {
        let _ = read_upgrade(&mut stream).await;
        return None;
    }
    let (path, key) = read_upgrade(&mut stream).await?;
    if let WsBehaviour::Status(code) = behaviour {
        let body = "not a websocket";
        let answer = format!(
            "HTTP/1.1 {code} Nope\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).await.ok()?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        return None;
    }
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_for(&key)
    );
    stream.write_all(answer.as_bytes()).await.ok()?;
    upgrades.fetch_add(1, Ordering::Relaxed);
    match behaviour {
        WsBehaviour::BrokenFrame => {
            // FIN, RSV1 set, text, 2 bytes: no extension was negotiated, so RSV1 is an error.
            stream.write_all(&[0xC1, 0x02, b'h', b'i']).await.ok()?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            None
        }
        WsBehaviour::Echo { stall_after } => {
            let mut ws = WebSocket::after_handshake(stream, Role::Server);
            loop {
                let frame = ws.read_frame().await.ok()?;
                match frame.opcode {
                    OpCode::Text | OpCode::Binary => {
                        let n = counted.fetch_add(1, Ordering::Relaxed);
                        if let Some((after, stall)) = stall_after {
                            if n == after {
                                tokio::time::sleep(stall).await;
                            }
                        }
                        ws.write_frame(frame).await.ok()?;
                    }
                    OpCode::Close => return None,
                    _ => {}
                }
            }
        }
        WsBehaviour::FragmentedEcho => {
            let mut ws = WebSocket::after_handshake(stream, Role::Server);
            loop {
                let frame = ws.read_frame().await.ok()?;
                if frame.opcode == OpCode::Text {
                    let (a, b) = frame.payload.split_at(frame.payload.len() / 2);
                    for (fin, opcode, part) in [
                        (false, OpCode::Text, a),
                        (false, OpCode::Continuation, &[][..]),
                        (true, OpCode::Continuation, b),
                    ] {
                        let f = Frame::new(fin, opcode, None, Payload::Owned(part.to_vec()));
                        ws.write_frame(f).await.ok()?;
                    }
                }
            }
        }
        WsBehaviour::WrongEcho => {
            let mut ws = WebSocket::after_handshake(stream, Role::Server);
            loop {
                let frame = ws.read_frame().await.ok()?;
                if frame.opcode == OpCode::Text {
                    let other = vec![b'?'; frame.payload.len()];
                    ws.write_frame(Frame::text(Payload::Owned(other)))
                        .await
                        .ok()?;
                }
            }
        }
        WsBehaviour::Idle => {
            let mut ws = WebSocket::after_handshake(stream, Role::Server);
            tokio::time::sleep(Duration::from_millis(100)).await;
            ws.write_frame(Frame::new(
                true,
                OpCode::Ping,
                None,
                Payload::Borrowed(b"are you there"),
            ))
            .await
            .ok()?;
            loop {
                let frame = ws.read_frame().await.ok()?;
                match frame.opcode {
                    OpCode::Close => return None,
                    OpCode::Pong if &frame.payload[..] == b"are you there" => {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {}
                }
            }
        }
        WsBehaviour::Broadcast { .. } => {
            let room = join(&rooms, &path, &behaviour);
            let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
            room.members.lock().unwrap().push(tx);
            let ws = WebSocket::after_handshake(stream, Role::Server);
            let (mut read, mut write) = ws.split(tokio::io::split);
            let writer = tokio::spawn(async move {
                while let Some(m) = rx.recv().await {
                    if write
                        .write_frame(Frame::text(Payload::Owned(m)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
            loop {
                let frame = read
                    .read_frame::<_, fastwebsockets::WebSocketError>(&mut |_| async { Ok(()) })
                    .await;
                match frame {
                    Ok(f) if matches!(f.opcode, OpCode::Text | OpCode::Binary) => {
                        let _ = room.inbox.send(f.payload.to_vec());
                    }
                    Ok(f) if f.opcode == OpCode::Close => break,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            writer.abort();
            None
        }
        WsBehaviour::Status(_) | WsBehaviour::Close => None,
    }
}

/// The room at `path`, started with its fan-out task if new.
fn join(rooms: &Rooms, path: &str, behaviour: &WsBehaviour) -> Arc<Room> {
    let mut all = rooms.rooms.lock().unwrap();
    if let Some(r) = all.get(path) {
        return r.clone();
    }
    let WsBehaviour::Broadcast {
        delay,
        drop,
        dup,
        swap,
        stall_after,
    } = behaviour.clone()
    else {
        unreachable!()
    };
    let (inbox, mut messages) = mpsc::unbounded_channel::<Vec<u8>>();
    let room = Arc::new(Room {
        members: Mutex::new(Vec::new()),
        inbox,
    });
    let r = room.clone();
    tokio::spawn(async move {
        // Each message leaves `delay` after it arrived, in arrival order.
        let (timed_tx, mut timed) =
            mpsc::unbounded_channel::<(tokio::time::Instant, u64, Vec<u8>)>();
        tokio::spawn(async move {
            let mut n = 0u64;
            while let Some(m) = messages.recv().await {
                let _ = timed_tx.send((tokio::time::Instant::now() + delay, n, m));
                n += 1;
            }
        });
        let mut held: Option<Vec<u8>> = None;
        let mut stalled = false;
        while let Some((at, n, m)) = timed.recv().await {
            if let Some((after, stall)) = stall_after {
                if n >= after && !stalled {
                    stalled = true;
                    tokio::time::sleep(stall).await;
                }
            }
            tokio::time::sleep_until(at).await;
            let members = r.members.lock().unwrap().clone();
            let send = |m: &Vec<u8>| {
                for member in &members {
                    let _ = member.send(m.clone());
                }
            };
            let slot = n % 10;
            if drop == Some(slot) {
                continue;
            }
            if swap == Some(slot) {
                held = Some(m);
                continue;
            }
            send(&m);
            if dup == Some(slot) {
                send(&m);
            }
            if let Some(h) = held.take() {
                send(&h);
            }
        }
    });
    all.insert(path.to_string(), room.clone());
    room
}
