//! What the server and its clients say to each other: HTTP/1.1, one request per connection.
//!
//! | request                  | reply                                                         |
//! |--------------------------|---------------------------------------------------------------|
//! | `GET /users/{login}`     | `200` and the record as JSON (GitHub's user API's shape), or `503` |
//! | `GET /stats`             | `200` and the server's figures as JSON (at once)              |
//! | `POST /stats/reset`      | `200 {"reset":true}` (at once)                                |
//! | another path             | `404 Not Found`                                               |
//! | another method           | `405 Method Not Allowed`                                      |
//! | a malformed request      | `400 Bad Request`                                             |
//! | a head over 8 KiB        | `431 Request Header Fields Too Large` (hyper's own limit)     |
//! | a body over 1 KiB        | `413 Content Too Large` (bodies are never read: GET needs none) |
//!
//! A login is 1 to 64 letters, digits, `_`, `-` or `.`; another `/users/...` is a `400`.
//!
//! **Keep-alive: no.** Every reply says `Connection: close` and the server closes the
//! connection after it, as `urlopen` asks of a server. So one request is one connection: the
//! server's count of open connections is the number of requests waiting, which is what the
//! lessons count and compare, and a client's pool of idle connections can never hide a wait.
//!
//! This module also holds the smallest HTTP/1.1 client a lesson can time step by step (build
//! the request bytes, parse the reply bytes): lesson 07's request profile and lesson 08's
//! hand-written `poll` loop use it. Real clients use `ureq` and `hyper` ([`crate::client`]).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The most bytes of a request head the server reads (hyper's smallest buffer).
pub const MAX_HEAD_BYTES: usize = 8192;
/// The largest request body the server tolerates unread; a larger one gets `413`.
pub const MAX_BODY_BYTES: u64 = 1024;
/// The most bytes a client reads of a reply: a user record is a few hundred.
pub const MAX_REPLY_BYTES: u64 = 256 << 10;

/// A user, as GitHub's user API describes one (the few fields the lessons use; a real reply's
/// other fields are ignored).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserRecord {
    pub login: String,
    pub id: u64,
    /// GitHub sends `null` for a user who gave no name.
    #[serde(default)]
    pub name: Option<String>,
    /// When the account was created, `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
    pub public_repos: u32,
}

impl UserRecord {
    /// The name, or `(no name)`.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("(no name)")
    }
}

/// Why a fetch did not return a record. Every failure is reported for its own request; a
/// client that fetches many records carries on with the others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum FetchError {
    /// The server answered with a status other than 200 (`503`, `403` rate limit, `404`).
    Server { status: u16, message: String },
    /// No reply within the client's timeout.
    TimedOut {
        #[serde(serialize_with = "as_millis")]
        after: Duration,
    },
    /// The connection could not be opened (refused, no such host, TLS handshake failed).
    Connect(String),
    /// The connection failed while sending or receiving.
    Io(String),
    /// The reply was not a user record (not HTTP, not JSON, another shape).
    BadReply(String),
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Server { status, message } => write!(f, "server error {status} ({message})"),
            FetchError::TimedOut { after } => write!(f, "no reply within {} ms (timed out)", after.as_millis()),
            FetchError::Connect(why) => write!(f, "could not connect: {why}"),
            FetchError::Io(why) => write!(f, "connection failed: {why}"),
            FetchError::BadReply(why) => write!(f, "bad reply: {why}"),
        }
    }
}

impl std::error::Error for FetchError {}

impl FetchError {
    /// True for a client-side timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, FetchError::TimedOut { .. })
    }

    /// True when the server answered with an error status.
    pub fn is_server_error(&self) -> bool {
        matches!(self, FetchError::Server { .. })
    }

    /// A few words for a summary: `503`, `timeout`, `refused`, `not JSON`.
    pub fn kind(&self) -> String {
        match self {
            FetchError::Server { status, .. } => format!("HTTP {status}"),
            FetchError::TimedOut { .. } => "timeout".to_string(),
            FetchError::Connect(_) => "could not connect".to_string(),
            FetchError::Io(_) => "connection failed".to_string(),
            FetchError::BadReply(_) => "not a user record".to_string(),
        }
    }
}

/// The record in a reply's body, or what is wrong with it.
pub fn record_from_body(status: u16, reason: &str, body: &str) -> Result<UserRecord, FetchError> {
    if status != 200 {
        let message = match reason.trim() {
            "" => shorten(body.trim()),
            reason => reason.to_string(),
        };
        return Err(FetchError::Server { status, message });
    }
    serde_json::from_str(body).map_err(|e| FetchError::BadReply(format!("{e} in {:?}", shorten(body))))
}

/// True for a login the server knows how to answer.
pub fn is_valid_login(login: &str) -> bool {
    (1..=64).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The bytes of `GET /users/{login}` over HTTP/1.1, asking the server to close afterwards.
pub fn user_request(login: &str) -> String {
    request("GET", &format!("/users/{login}"))
}

/// The bytes of any bodiless request to the slow server.
pub fn request(method: &str, path: &str) -> String {
    format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: parallel-lessons\r\nConnection: close\r\n\r\n")
}

/// Splits a whole HTTP/1.1 reply (read until the server closed) into status, reason and body.
pub fn split_reply(reply: &str) -> Result<(u16, &str, &str), FetchError> {
    if reply.is_empty() {
        return Err(FetchError::BadReply(
            "the server closed the connection without a reply".to_string(),
        ));
    }
    let bad = || FetchError::BadReply(format!("not an HTTP reply: {:?}", shorten(reply)));
    let (head, body) = reply.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status_line = head.lines().next().unwrap_or_default();
    let mut words = status_line.splitn(3, ' ');
    if !words.next().is_some_and(|version| version.starts_with("HTTP/1.")) {
        return Err(bad());
    }
    let status = words.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let chunked = head.lines().any(|line| {
        line.to_ascii_lowercase()
            .replace(' ', "")
            .starts_with("transfer-encoding:chunked")
    });
    if chunked {
        return Err(FetchError::BadReply(
            "a chunked reply (this small client reads only whole bodies)".into(),
        ));
    }
    Ok((status, words.next().unwrap_or_default(), body))
}

/// The record in a whole HTTP/1.1 reply, or the error the server sent instead.
pub fn parse_reply(reply: &str) -> Result<UserRecord, FetchError> {
    let (status, reason, body) = split_reply(reply)?;
    record_from_body(status, reason, body)
}

pub(crate) fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> UserRecord {
        UserRecord {
            login: "ada".into(),
            id: 7,
            name: Some("Ada Byron".into()),
            created_at: "2011-03-04T05:06:07Z".into(),
            public_repos: 3,
        }
    }

    #[test]
    fn replies_are_read() {
        let body = serde_json::to_string(&record()).unwrap();
        let reply = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len());
        assert_eq!(parse_reply(&reply), Ok(record()));
        assert_eq!(
            parse_reply("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"),
            Err(FetchError::Server {
                status: 503,
                message: "Service Unavailable".into()
            })
        );
        assert!(matches!(parse_reply(""), Err(FetchError::BadReply(_))));
        assert!(matches!(parse_reply("hello"), Err(FetchError::BadReply(_))));
        assert!(matches!(
            parse_reply("HTTP/1.1 200 OK\r\n\r\n{not json"),
            Err(FetchError::BadReply(_))
        ));
    }

    #[test]
    fn githubs_shape_is_read_with_a_null_name_and_extra_fields() {
        let github = r#"{"login":"octocat","id":583231,"node_id":"MDQ6","name":null,
            "created_at":"2011-01-25T18:44:36Z","public_repos":8,"followers":1}"#;
        let record = record_from_body(200, "OK", github).unwrap();
        assert_eq!(record.name, None);
        assert_eq!(record.display_name(), "(no name)");
        assert_eq!(record.public_repos, 8);
    }

    #[test]
    fn requests_name_the_login_and_close() {
        let request = user_request("user-0042");
        assert!(request.starts_with("GET /users/user-0042 HTTP/1.1\r\n"));
        assert!(request.contains("Connection: close\r\n") && request.ends_with("\r\n\r\n"));
        assert!(is_valid_login("user-0042") && !is_valid_login("a/b") && !is_valid_login(&"x".repeat(65)));
    }

    #[test]
    fn errors_say_what_happened() {
        let timeout = FetchError::TimedOut {
            after: Duration::from_millis(250),
        };
        assert!(timeout.is_timeout() && !timeout.is_server_error());
        assert_eq!(timeout.to_string(), "no reply within 250 ms (timed out)");
        let server = FetchError::Server {
            status: 403,
            message: "rate limit exceeded".into(),
        };
        assert!(server.is_server_error());
        assert_eq!(server.kind(), "HTTP 403");
    }
}
