//! Clients for the slow server: a blocking one, whose steps a lesson can time one by one, and
//! an async one for tokio. Both open one connection per request, as `urlopen` does.

use crate::protocol::{self, FetchError, UserRecord};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One request's connection, blocking: every step waits, and gives up after the timeout.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    timeout: Duration,
}

impl Connection {
    /// Connects to the server. `timeout` bounds the connect and each later wait for the server.
    pub fn open(server: SocketAddr, timeout: Duration) -> Result<Connection, FetchError> {
        let stream = TcpStream::connect_timeout(&server, timeout).map_err(|e| match e.kind() {
            ErrorKind::TimedOut | ErrorKind::WouldBlock => FetchError::TimedOut { after: timeout },
            _ => FetchError::Connect(e.to_string()),
        })?;
        let setup = || -> std::io::Result<()> {
            stream.set_read_timeout(Some(timeout))?;
            stream.set_write_timeout(Some(timeout))?;
            stream.set_nodelay(true)
        };
        setup().map_err(|e| FetchError::Io(e.to_string()))?;
        Ok(Connection { stream, timeout })
    }

    /// Sends the request line for `login`.
    pub fn send_request(&mut self, login: &str) -> Result<(), FetchError> {
        let timeout = self.timeout;
        self.stream
            .write_all(protocol::user_request(login).as_bytes())
            .map_err(|e| io_error(e, timeout))
    }

    /// Sends any request line (a newline is added).
    pub fn send_line(&mut self, line: &str) -> Result<(), FetchError> {
        let timeout = self.timeout;
        self.stream
            .write_all(format!("{line}\n").as_bytes())
            .map_err(|e| io_error(e, timeout))
    }

    /// Waits for the reply: everything until the server closes the connection. This is where
    /// the time goes: the thread sleeps in the kernel until the bytes arrive.
    pub fn receive_reply(&mut self) -> Result<String, FetchError> {
        // Room for a record: a reply is one short line.
        let mut reply = Vec::with_capacity(256);
        let timeout = self.timeout;
        self.stream.read_to_end(&mut reply).map_err(|e| io_error(e, timeout))?;
        Ok(String::from_utf8_lossy(&reply).into_owned())
    }
}

fn io_error(error: std::io::Error, timeout: Duration) -> FetchError {
    match error.kind() {
        // A socket read timeout shows as WouldBlock on Unix, TimedOut elsewhere.
        ErrorKind::WouldBlock | ErrorKind::TimedOut => FetchError::TimedOut { after: timeout },
        _ => FetchError::Io(error.to_string()),
    }
}

/// Fetches one user's record, blocking the calling thread until the reply or the timeout.
pub fn fetch_user(server: SocketAddr, login: &str, timeout: Duration) -> Result<UserRecord, FetchError> {
    let mut connection = Connection::open(server, timeout)?;
    connection.send_request(login)?;
    let reply = connection.receive_reply()?;
    protocol::parse_reply(&reply)
}

/// Fetches one user's record in a tokio task: while it waits, the thread runs other tasks.
/// Put a `tokio::time::timeout` around it for a deadline.
pub async fn fetch_user_async(server: SocketAddr, login: &str) -> Result<UserRecord, FetchError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server)
        .await
        .map_err(|e| FetchError::Connect(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    stream
        .write_all(protocol::user_request(login).as_bytes())
        .await
        .map_err(|e| FetchError::Io(e.to_string()))?;
    let mut reply = Vec::with_capacity(256);
    stream
        .read_to_end(&mut reply)
        .await
        .map_err(|e| FetchError::Io(e.to_string()))?;
    protocol::parse_reply(&String::from_utf8_lossy(&reply))
}

/// Sends a control line (`GET stats`, `RESET stats`) and returns the reply line.
pub fn control(server: SocketAddr, line: &str) -> Result<String, FetchError> {
    let mut connection = Connection::open(server, Duration::from_secs(10))?;
    connection.send_line(line)?;
    connection.receive_reply()
}
