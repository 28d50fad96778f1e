//! The lab's side of the loopback network: the ports it hands out and the HTTP client it checks
//! servers with. Starting a server, checking it and driving it all need both, so they live here,
//! below every module that uses them.

use std::time::Duration;

/// An HTTP client for checking servers: no retries, no redirects, statuses as values.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// A TCP port free on 127.0.0.1 right now, and never one this process handed out before:
/// servers started at once each ask for a port and release it to the server, and the kernel
/// may give a port just released to the next caller.
pub fn free_port() -> std::io::Result<u16> {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    // Holding every candidate until one is new keeps the kernel from offering it again.
    let mut held = Vec::new();
    loop {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        if !given.contains(&port) {
            given.push(port);
            return Ok(port);
        }
        held.push(listener);
        if held.len() > 64 {
            return Err(std::io::Error::other("no new free port on 127.0.0.1"));
        }
    }
}
