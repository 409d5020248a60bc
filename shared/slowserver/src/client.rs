//! Clients for the slow server, or for any server that answers `GET /users/{login}` the way
//! GitHub's user API does: a blocking one with `ureq` (a thread waits for each reply), an async
//! one with hyper's client on tokio (a task waits, the thread runs others), and a bare HTTP/1.1
//! [`Connection`] whose steps a lesson can time one by one.
//!
//! Each request is one connection (`Connection: close`), as `urlopen` makes it. HTTPS goes
//! through rustls with the ring provider: the Web PKI's roots by default, or the certificates
//! of a PEM file instead ([`Trust::from_pem_file`], the lessons' `--ca-cert FILE`).

use crate::protocol::{self, FetchError, MAX_REPLY_BYTES, UserRecord};
use crate::server::Stats;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// One login's outcome: its record, or why there is none.
pub type FetchResult = Result<UserRecord, FetchError>;

/// Where to fetch a login's record: a URL with `{login}` in it, `http` or `https`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlTemplate(String);

impl UrlTemplate {
    /// Checks a template such as `https://api.github.com/users/{login}`: an `http://` or
    /// `https://` URL with a host, and `{login}` somewhere after it.
    pub fn parse(template: &str) -> Result<UrlTemplate, String> {
        let lower = template.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(format!("{template:?}: the URL must start with http:// or https://"));
        }
        if !template.contains("{login}") {
            return Err(format!(
                "{template:?}: the URL has no {{login}} to replace with each login"
            ));
        }
        let example = template.replace("{login}", "octocat");
        match example.parse::<hyper::Uri>() {
            Ok(uri) if uri.host().is_some_and(|host| !host.is_empty()) => Ok(UrlTemplate(template.to_string())),
            Ok(_) => Err(format!("{template:?}: the URL has no host")),
            Err(error) => Err(format!("{template:?}: not a URL ({error})")),
        }
    }

    /// The slow server's own user API at `server`.
    pub fn local(server: SocketAddr) -> UrlTemplate {
        UrlTemplate(format!("http://{server}/users/{{login}}"))
    }

    /// The URL of `login`'s record.
    pub fn url(&self, login: &str) -> String {
        self.0.replace("{login}", login)
    }

    pub fn is_https(&self) -> bool {
        self.0.to_ascii_lowercase().starts_with("https://")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UrlTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which certificate authorities an HTTPS client trusts.
#[derive(Clone, Debug, Default)]
pub enum Trust {
    /// The Web PKI's roots, as browsers trust them (compiled in: `webpki-roots`).
    #[default]
    WebPki,
    /// Only these certificates (a private CA, or a test's own).
    Only(Arc<Vec<CertificateDer<'static>>>),
}

impl Trust {
    /// The certificates of a PEM file (`--ca-cert FILE`), or a one-line reason why not.
    pub fn from_pem_file(path: &Path) -> Result<Trust, String> {
        let name = path.display();
        let pem = std::fs::read(path).map_err(|error| format!("{name}: cannot read it ({error})"))?;
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| format!("{name}: not a PEM certificate file ({error})"))?;
        if certificates.is_empty() {
            return Err(format!("{name}: holds no PEM certificate"));
        }
        Ok(Trust::Only(Arc::new(certificates)))
    }

    fn root_store(&self) -> rustls::RootCertStore {
        match self {
            Trust::WebPki => rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Trust::Only(certificates) => {
                let mut roots = rustls::RootCertStore::empty();
                // A certificate rustls cannot use as a root is left out: the handshake then fails
                // for its server, as one failed request, not for the whole run.
                let _ = roots.add_parsable_certificates(certificates.iter().cloned());
                roots
            }
        }
    }
}

// ----- Blocking: ureq -----

/// A blocking HTTP client that gives up on a request when a step of it (connecting, sending,
/// waiting for the reply, reading it) takes longer than `timeout`, and trusts `trust` for HTTPS. Reply statuses are read, not turned into errors; a reply is read up to 256 KiB.
pub fn blocking_client(timeout: Duration, trust: &Trust) -> ureq::Agent {
    let roots = match trust {
        Trust::WebPki => ureq::tls::RootCerts::WebPki,
        Trust::Only(certificates) => {
            let certificates: Vec<ureq::tls::Certificate<'static>> = certificates
                .iter()
                .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
                .collect();
            ureq::tls::RootCerts::new_with_certs(&certificates)
        }
    };
    // A deadline per phase (connect, send, wait for the reply, read it), not one for the whole
    // call: with a whole-call deadline ureq resolves the host name on a thread of its own, one
    // more thread per request (and a panic where the machine refuses threads). A name is then
    // resolved without a deadline; an address like 127.0.0.1 needs no resolving at all.
    let phase = Some(timeout);
    ureq::Agent::config_builder()
        .timeout_connect(phase)
        .timeout_send_request(phase)
        .timeout_recv_response(phase)
        .timeout_recv_body(phase)
        .http_status_as_error(false)
        // A reply head is small (GitHub's is about 3 KiB): buffers the size of hyper's smallest
        // keep ten thousand waiting threads light, and the two clients alike.
        .input_buffer_size(8 << 10)
        .output_buffer_size(1 << 10)
        .user_agent("parallel-lessons")
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
        .build()
        .into()
}

/// What a failed ureq call means for one request.
pub fn ureq_failure(error: ureq::Error, timeout: Duration) -> FetchError {
    match error {
        ureq::Error::Timeout(_) => FetchError::TimedOut { after: timeout },
        ureq::Error::Io(io) if matches!(io.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
            FetchError::TimedOut { after: timeout }
        }
        ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => FetchError::Connect(io.to_string()),
        // rustls reports a failed handshake (an untrusted certificate) as an I/O error.
        ureq::Error::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => {
            FetchError::Connect(format!("TLS: {io}"))
        }
        ureq::Error::HostNotFound => FetchError::Connect("host not found".to_string()),
        ureq::Error::ConnectionFailed => FetchError::Connect("connection failed".to_string()),
        error @ (ureq::Error::Tls(_) | ureq::Error::Rustls(_)) => FetchError::Connect(format!("TLS: {error}")),
        error
        @ (ureq::Error::BodyExceedsLimit(_) | ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(..)) => {
            FetchError::BadReply(error.to_string())
        }
        error => FetchError::Io(error.to_string()),
    }
}

/// One user's record from `url` with ureq: the calling thread waits for the reply.
pub fn fetch_blocking(agent: &ureq::Agent, url: &str, timeout: Duration) -> FetchResult {
    let mut response = agent
        .get(url)
        .header("Accept", "application/json")
        .call()
        .map_err(|error| ureq_failure(error, timeout))?;
    let status = response.status();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_REPLY_BYTES)
        .read_to_string()
        .map_err(|error| ureq_failure(error, timeout))?;
    protocol::record_from_body(status.as_u16(), status.canonical_reason().unwrap_or(""), &body)
}

/// Fetches one user's record from the slow server at `server`, blocking the calling thread
/// until the reply or the timeout (one connection, opened and closed for this request).
pub fn fetch_user(server: SocketAddr, login: &str, timeout: Duration) -> FetchResult {
    let agent = blocking_client(timeout, &Trust::WebPki);
    fetch_blocking(&agent, &UrlTemplate::local(server).url(login), timeout)
}

// ----- Async: hyper's client on tokio -----

/// An async HTTP client: each request is a task's own connection, driven by the task that
/// awaits it (nothing is spawned, so dropping the request's future closes its connection).
#[derive(Clone)]
pub struct AsyncClient {
    tls: tokio_rustls::TlsConnector,
}

impl AsyncClient {
    pub fn new(trust: &Trust) -> Result<AsyncClient, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("TLS: {error}"))?
            .with_root_certificates(trust.root_store())
            .with_no_client_auth();
        Ok(AsyncClient {
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        })
    }

    /// One user's record from `url`. At every `.await` the task may wait and the thread runs
    /// other tasks. Put a `tokio::time::timeout` around it for a deadline.
    pub async fn fetch(&self, url: &str) -> FetchResult {
        self.fetch_gated(url, async {}).await
    }

    /// Like [`AsyncClient::fetch`], but the connection is opened only once `gate` is ready,
    /// and what the gate gave is dropped as soon as the TCP handshake is done: a lesson that
    /// opens ten thousand connections lets only a wave of them connect at a time (a semaphore's
    /// permit), so that the server's accept queue never overflows.
    pub async fn fetch_gated<G>(&self, url: &str, gate: impl std::future::Future<Output = G>) -> FetchResult {
        let uri: hyper::Uri = url.parse().map_err(|e| FetchError::Connect(format!("{url:?}: {e}")))?;
        let https = uri.scheme_str() == Some("https");
        let host = uri.host().unwrap_or_default().trim_matches(['[', ']']).to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let request = hyper::Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
            .header(header::HOST, uri.authority().map_or(host.as_str(), |a| a.as_str()))
            .header(header::USER_AGENT, "parallel-lessons")
            .header(header::ACCEPT, "application/json")
            .header(header::CONNECTION, "close")
            .body(Empty::<Bytes>::new())
            .map_err(|e| FetchError::Connect(e.to_string()))?;
        let connecting = gate.await;
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| FetchError::Connect(e.to_string()))?;
        drop(connecting);
        let _ = stream.set_nodelay(true);
        if !https {
            return exchange(TokioIo::new(stream), request).await;
        }
        let name = ServerName::try_from(host).map_err(|e| FetchError::Connect(format!("TLS: {e}")))?;
        let stream = self
            .tls
            .connect(name, stream)
            .await
            .map_err(|e| FetchError::Connect(format!("TLS: {e}")))?;
        exchange(TokioIo::new(stream), request).await
    }
}

/// Sends `request` over a connection and reads the reply; the connection is driven here, beside
/// the request, and ends when the reply has been read.
async fn exchange<T>(io: T, request: hyper::Request<Empty<Bytes>>) -> FetchResult
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| FetchError::Io(e.to_string()))?;
    let reply = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| FetchError::Io(e.to_string()))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_REPLY_BYTES as usize)
            .collect()
            .await
            .map_err(|e| FetchError::Io(e.to_string()))?
            .to_bytes();
        // `sender` is dropped here: with no request left, the connection below finishes.
        Ok::<_, FetchError>((status, body))
    };
    let (reply, _closed) = tokio::join!(reply, connection);
    let (status, body) = reply?;
    protocol::record_from_body(
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        &String::from_utf8_lossy(&body),
    )
}

/// Fetches one user's record from the slow server at `server` in a tokio task: while it waits,
/// the thread runs other tasks. Put a `tokio::time::timeout` around it for a deadline.
pub async fn fetch_user_async(server: SocketAddr, login: &str) -> FetchResult {
    // Plain HTTP never touches the TLS configuration, whose roots are then never read.
    let client = AsyncClient::new(&Trust::Only(Arc::default())).map_err(FetchError::Connect)?;
    client.fetch(&UrlTemplate::local(server).url(login)).await
}

// ----- Bare HTTP/1.1, one step at a time -----

/// One request's connection, blocking, with each step separate so that a lesson can time it.
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

    /// Sends `GET /users/{login}`.
    pub fn send_request(&mut self, login: &str) -> Result<(), FetchError> {
        self.send_raw(protocol::user_request(login).as_bytes())
    }

    /// Sends any bytes (a whole request, or a malformed one).
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), FetchError> {
        let timeout = self.timeout;
        self.stream.write_all(bytes).map_err(|e| io_error(e, timeout))
    }

    /// Waits for the reply: everything until the server closes the connection. This is where
    /// the time goes: the thread sleeps in the kernel until the bytes arrive.
    pub fn receive_reply(&mut self) -> Result<String, FetchError> {
        let mut reply = Vec::with_capacity(512);
        let timeout = self.timeout;
        (&mut self.stream)
            .take(MAX_REPLY_BYTES)
            .read_to_end(&mut reply)
            .map_err(|e| io_error(e, timeout))?;
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

/// Sends a bodiless request and returns the reply's status and body.
pub fn control(server: SocketAddr, method: &str, path: &str) -> Result<(u16, String), FetchError> {
    let mut connection = Connection::open(server, Duration::from_secs(10))?;
    connection.send_raw(protocol::request(method, path).as_bytes())?;
    let reply = connection.receive_reply()?;
    let (status, _, body) = protocol::split_reply(&reply)?;
    Ok((status, body.to_string()))
}

/// The server's figures (`GET /stats`).
pub fn stats(server: SocketAddr) -> Result<Stats, FetchError> {
    let (status, body) = control(server, "GET", "/stats")?;
    if status != 200 {
        return Err(FetchError::Server { status, message: body });
    }
    serde_json::from_str(&body).map_err(|e| FetchError::BadReply(format!("the server's figures: {e}")))
}

/// Zeroes the server's counters (`POST /stats/reset`).
pub fn reset_stats(server: SocketAddr) -> Result<(), FetchError> {
    match control(server, "POST", "/stats/reset")? {
        (200, _) => Ok(()),
        (status, body) => Err(FetchError::Server { status, message: body }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_need_a_scheme_a_host_and_a_login() {
        let github = UrlTemplate::parse("https://api.github.com/users/{login}").unwrap();
        assert!(github.is_https());
        assert_eq!(github.url("gvanrossum"), "https://api.github.com/users/gvanrossum");
        assert!(UrlTemplate::parse("http://127.0.0.1:8080/u/{login}.json").is_ok());
        for bad in [
            "https://api.github.com/users/",
            "ftp://example.com/{login}",
            "api.github.com/users/{login}",
            "http:///{login}",
        ] {
            assert!(UrlTemplate::parse(bad).is_err(), "{bad}");
        }
        let local = UrlTemplate::local("127.0.0.1:4000".parse().unwrap());
        assert_eq!(local.url("ada"), "http://127.0.0.1:4000/users/ada");
    }

    #[test]
    fn a_pem_file_must_hold_a_certificate() {
        let dir = std::env::temp_dir().join(format!("slowserver-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "nothing here\n").unwrap();
        assert!(Trust::from_pem_file(&empty).unwrap_err().contains("no PEM certificate"));
        assert!(
            Trust::from_pem_file(&dir.join("missing.pem"))
                .unwrap_err()
                .contains("cannot read")
        );
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let good = dir.join("ca.pem");
        std::fs::write(&good, generated.cert.pem()).unwrap();
        assert!(matches!(Trust::from_pem_file(&good), Ok(Trust::Only(c)) if c.len() == 1));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
