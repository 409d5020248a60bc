//! The `--hosts` file of a cluster started by hand: one `host:port` per process, process 0
//! first, the same file on every machine.

/// The addresses listed in a `--hosts` file (reported as a list of addresses), and the line of
/// the file each is on.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(transparent)]
pub struct HostsFile {
    pub addresses: Vec<String>,
    #[serde(skip)]
    pub lines: Vec<usize>,
}

/// `--hosts`: read and check the file (exit 2 with one line if it is missing or corrupt).
pub fn read_hosts_file(path: &str) -> Result<HostsFile, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read it: {error}"))?;
    let hosts = parse_hosts(&text)?;
    Ok(HostsFile {
        addresses: hosts.iter().map(|host| host.address.clone()).collect(),
        lines: hosts.iter().map(|host| host.line).collect(),
    })
}

/// One process's address in a `--hosts` file, and the line of the file it is on (counting from
/// 1, as editors do; the process's index counts addresses from 0, skipping other lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostLine {
    pub address: String,
    pub line: usize,
}

/// The `--hosts` file: one `host:port` per process, process 0 first. Blank lines and lines
/// starting with `#` are skipped.
pub fn parse_hosts(text: &str) -> Result<Vec<HostLine>, String> {
    let mut hosts: Vec<HostLine> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (host, port) = line
            .rsplit_once(':')
            .ok_or_else(|| format!("line {}: '{line}' is not host:port", number + 1))?;
        let port: u16 = port
            .parse()
            .map_err(|_| format!("line {}: '{port}' is not a port number", number + 1))?;
        if host.is_empty() || port == 0 {
            return Err(format!(
                "line {}: '{line}' needs a host and a port from 1 to 65535",
                number + 1
            ));
        }
        if hosts.iter().any(|known| known.address == line) {
            return Err(format!("line {}: '{line}' is listed twice", number + 1));
        }
        hosts.push(HostLine {
            address: line.to_string(),
            line: number + 1,
        });
    }
    if hosts.len() < 2 {
        return Err(format!(
            "a hosts file lists at least two processes (one host:port per line); this one lists {}",
            hosts.len()
        ));
    }
    if hosts.len() > 64 {
        return Err(format!("at most 64 processes; this hosts file lists {}", hosts.len()));
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_files_are_checked() {
        let hosts = parse_hosts("# two machines\n10.0.0.1:7000\n\n10.0.0.2:7000\n").unwrap();
        let addresses: Vec<&str> = hosts.iter().map(|host| host.address.as_str()).collect();
        assert_eq!(addresses, vec!["10.0.0.1:7000", "10.0.0.2:7000"]);
        // Process 0 is the first address, on line 2 after the comment; process 1 is on line 4.
        let lines: Vec<usize> = hosts.iter().map(|host| host.line).collect();
        assert_eq!(lines, vec![2, 4]);
        assert!(parse_hosts("").unwrap_err().contains("at least two"));
        assert!(parse_hosts("a:1\nb\n").unwrap_err().contains("line 2"));
        assert!(parse_hosts("a:1\nb:x\n").unwrap_err().contains("not a port"));
        assert!(parse_hosts("a:1\nb:0\n").is_err());
        assert!(parse_hosts("a:1\na:1\n").unwrap_err().contains("twice"));
        assert!(parse_hosts("a:1\nb:70000\n").is_err());
        assert!(parse_hosts("\u{0}\u{1}binary junk").is_err());
    }
}
