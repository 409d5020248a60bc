//! The one-line protocol, shared by the server and every client.
//!
//! A request is one line; the reply is one line, `STATUS BODY`, after which the server closes
//! the connection:
//!
//! | request            | reply                                                   |
//! |--------------------|---------------------------------------------------------|
//! | `GET user <login>` | `200 {record as JSON}`, or `503 service unavailable`    |
//! | `GET stats`        | `200 {stats as JSON}` (at once)                         |
//! | `RESET stats`      | `200 {"reset":true}` (at once)                          |
//! | anything else      | `400 bad request`                                       |
//!
//! A login is 1 to 64 letters, digits, `_`, `-` or `.`.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The longest request line the server reads; a longer one is a bad request.
pub const MAX_REQUEST_BYTES: usize = 128;

/// What the server knows about a user, as GitHub's user API would say it (a few fields).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserRecord {
    pub login: String,
    pub name: String,
    pub id: u64,
    /// When the account was created, `YYYY-MM-DDTHH:MM:SSZ`.
    pub joined: String,
    pub public_repos: u32,
}

/// Why a fetch did not return a record. Every failure is reported for its own request; a
/// client that fetches many records carries on with the others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum FetchError {
    /// The server answered with an error status (`503 service unavailable`).
    Server { status: u16, message: String },
    /// No reply within the client's timeout.
    TimedOut {
        #[serde(serialize_with = "as_millis")]
        after: Duration,
    },
    /// The connection could not be opened.
    Connect(String),
    /// The connection failed while sending or receiving.
    Io(String),
    /// The reply did not follow the protocol.
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
}

/// A request, as the server reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    User(String),
    Stats,
    ResetStats,
    Bad,
}

/// True for a login the protocol allows.
pub fn is_valid_login(login: &str) -> bool {
    (1..=64).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The request line for `login`, newline included.
pub fn user_request(login: &str) -> String {
    format!("GET user {login}\n")
}

/// Reads one request line (without its newline).
pub fn parse_request(line: &str) -> Request {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["GET", "user", login] if is_valid_login(login) => Request::User(login.to_string()),
        ["GET", "stats"] => Request::Stats,
        ["RESET", "stats"] => Request::ResetStats,
        _ => Request::Bad,
    }
}

/// The reply line carrying `record`, newline included.
pub fn record_reply(record: &UserRecord) -> String {
    // Serializing plain strings and numbers cannot fail.
    format!("200 {}\n", serde_json::to_string(record).unwrap_or_default())
}

/// An error reply line, newline included.
pub fn error_reply(status: u16, message: &str) -> String {
    format!("{status} {message}\n")
}

/// Splits a reply into its status and body (`200 {...}` into `(200, "{...}")`).
pub fn split_reply(reply: &str) -> Result<(u16, &str), FetchError> {
    let line = reply.trim_end_matches(['\n', '\r']);
    if line.is_empty() {
        return Err(FetchError::BadReply(
            "the server closed the connection without a reply".to_string(),
        ));
    }
    let (status, body) = line.split_once(' ').unwrap_or((line, ""));
    let status: u16 = status
        .parse()
        .map_err(|_| FetchError::BadReply(format!("no status in {:?}", shorten(line))))?;
    Ok((status, body))
}

/// The record in a reply, or the error the server sent instead.
pub fn parse_reply(reply: &str) -> Result<UserRecord, FetchError> {
    let (status, body) = split_reply(reply)?;
    if status != 200 {
        return Err(FetchError::Server {
            status,
            message: body.to_string(),
        });
    }
    serde_json::from_str(body).map_err(|e| FetchError::BadReply(format!("{e} in {:?}", shorten(body))))
}

fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse() {
        assert_eq!(parse_request("GET user ada"), Request::User("ada".into()));
        assert_eq!(
            parse_request(user_request("user-0042").trim_end()),
            Request::User("user-0042".into())
        );
        assert_eq!(parse_request("GET stats"), Request::Stats);
        assert_eq!(parse_request("RESET stats"), Request::ResetStats);
        assert_eq!(parse_request("GET user"), Request::Bad);
        assert_eq!(parse_request("GET user a/b"), Request::Bad);
        assert_eq!(parse_request("GET user a b"), Request::Bad);
        assert_eq!(parse_request(""), Request::Bad);
        assert!(!is_valid_login(&"x".repeat(65)));
    }

    #[test]
    fn replies_round_trip() {
        let record = UserRecord {
            login: "ada".into(),
            name: "Ada Byron".into(),
            id: 7,
            joined: "2011-03-04T05:06:07Z".into(),
            public_repos: 3,
        };
        assert_eq!(parse_reply(&record_reply(&record)), Ok(record));
        assert_eq!(
            parse_reply(&error_reply(503, "service unavailable")),
            Err(FetchError::Server {
                status: 503,
                message: "service unavailable".into()
            })
        );
        assert!(matches!(parse_reply(""), Err(FetchError::BadReply(_))));
        assert!(matches!(parse_reply("hello"), Err(FetchError::BadReply(_))));
        assert!(matches!(parse_reply("200 {not json"), Err(FetchError::BadReply(_))));
    }

    #[test]
    fn errors_say_what_happened() {
        let timeout = FetchError::TimedOut {
            after: Duration::from_millis(250),
        };
        assert!(timeout.is_timeout() && !timeout.is_server_error());
        assert_eq!(timeout.to_string(), "no reply within 250 ms (timed out)");
        let server = FetchError::Server {
            status: 503,
            message: "service unavailable".into(),
        };
        assert!(server.is_server_error());
        assert_eq!(server.to_string(), "server error 503 (service unavailable)");
    }
}
