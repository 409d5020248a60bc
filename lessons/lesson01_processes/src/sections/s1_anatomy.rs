//! Section 1: what the kernel keeps for a process (the lecture's "components of a process"),
//! read from `/proc` for this very process.

use crate::Params;
use crate::observe::{self, OpenFile};
use crate::watch::show_signals;
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};
use nix::unistd::{getpid, getppid};

/// Inherited descriptors listed one by one; past these, one line says how many more.
const INHERITED_SHOWN: usize = 2;
/// Ancestors named on the ancestry line before the ones nearest PID 1 are left out.
const ANCESTORS_SHOWN: usize = 4;

pub fn run(lesson: &Lesson, _: &mut Params) -> anyhow::Result<()> {
    let me = getpid().as_raw();
    match observe::ancestry(me) {
        Some(chain) => {
            let mut names: Vec<String> = chain
                .iter()
                .map(|row| format!("{} ({})", short_name(row), row.pid))
                .collect();
            // The first few and PID 1: the line stays short however deep the lesson was started.
            if names.len() > ANCESTORS_SHOWN + 1 {
                let last = names.pop().unwrap_or_default();
                names.truncate(ANCESTORS_SHOWN);
                names.extend(["...".to_string(), last]);
            }
            say!(
                lesson,
                "  PID {me}, parent PID {}; ancestry: {}",
                getppid(),
                names.join(" ← ")
            );
            lesson.figure("ancestry", &chain);
        }
        None => say!(
            lesson,
            "  PID {me}, parent PID {}; ancestry cannot be read here (no /proc)",
            getppid()
        ),
    }
    let status = observe::status(me);
    if let Some(status) = &status {
        say!(
            lesson,
            "  owner: user {} (effective {}); threads of execution: {}; error status: errno, per thread",
            status.uid,
            status.euid,
            status.threads
        );
    }
    say!(
        lesson,
        "  File descriptors: small numbers that stand for open files, pipes, terminals"
    );
    match observe::open_files() {
        Some(files) => {
            let mut table = Table::new(&["  fd", "", "points to"]).left(1).left(2);
            for (fds, role, target) in fd_rows(&files) {
                table.row([format!("  {fds}"), role, target]);
            }
            lesson.table(&table);
            lesson.figure("open_files", &files);
        }
        None => say!(lesson, "  (cannot be listed on this platform)"),
    }
    say!(
        lesson,
        "  Memory map (/proc/self/smaps), grouped by what each part holds, low addresses first"
    );
    match observe::regions() {
        Some(regions) => {
            let mut table = Table::new(&["  region", "maps", "from address", "mapped", "resident", "shared"]);
            for region in &regions {
                table.row([
                    format!("  {}", region.kind),
                    region.mappings.to_string(),
                    format!("{:#014x}", region.start),
                    format::bytes(region.size),
                    format::bytes(region.resident),
                    format::bytes(region.shared),
                ]);
            }
            lesson.table(&table);
            say!(
                lesson,
                "  'shared': pages other processes map too: the libraries' code is one copy for the \
                 whole machine."
            );
            lesson.figure("memory_regions", &regions);
        }
        None => say!(lesson, "  (cannot be read on this platform)"),
    }
    if let Some(status) = &status {
        show_signals(lesson, status);
        lesson.figure("threads", status.threads);
    }
    lesson.notice(
        "A process is an ID and a parent, an owner, open files, an address space (code, data, bss, \
         heap, stack, libraries), signal dispositions, and at least one thread running in it.",
    );
    Ok(())
}

/// The table's rows: descriptors that this lesson opened to read `/proc` on one row, the first
/// few inherited ones each on its own, then how many more.
fn fd_rows(files: &[OpenFile]) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    let reading: Vec<i32> = files
        .iter()
        .filter(|f| f.fd > 2 && f.target.starts_with("/proc/"))
        .map(|f| f.fd)
        .collect();
    let inherited: Vec<&OpenFile> = files
        .iter()
        .filter(|f| f.fd > 2 && !f.target.starts_with("/proc/"))
        .collect();
    for file in files.iter().filter(|f| f.fd <= 2) {
        let role = ["standard input", "standard output", "standard error"][file.fd.max(0) as usize];
        rows.push((file.fd.to_string(), role.to_string(), file.target.clone()));
    }
    if !reading.is_empty() {
        let role = "opened to read /proc for this table".to_string();
        rows.push((runs(&reading), role, "/proc/...".to_string()));
    }
    // The lesson has opened nothing else yet: the rest came from whoever started it.
    for file in inherited.iter().take(INHERITED_SHOWN) {
        rows.push((
            file.fd.to_string(),
            "inherited from the parent".to_string(),
            file.target.clone(),
        ));
    }
    if inherited.len() > INHERITED_SHOWN {
        let more = inherited.len() - INHERITED_SHOWN;
        rows.push(("...".to_string(), format!("and {more} more inherited"), String::new()));
    }
    rows
}

/// Numbers in increasing order, runs of consecutive ones written as ranges: "3-4,8".
fn runs(numbers: &[i32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let mut j = i;
        while j + 1 < numbers.len() && numbers[j + 1] == numbers[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            numbers[i].to_string()
        } else {
            format!("{}-{}", numbers[i], numbers[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// The program's name from a process table row: the file name of its first argument.
fn short_name(row: &observe::PsRow) -> String {
    let first = row.command.split_whitespace().next().unwrap_or(&row.command);
    first.rsplit('/').next().unwrap_or(first).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_first_argument() {
        let row = observe::PsRow {
            pid: 1,
            ppid: 0,
            state: 'S',
            command: "/usr/bin/cargo run -p x".to_string(),
        };
        assert_eq!(short_name(&row), "cargo");
    }

    #[test]
    fn descriptor_numbers_read_as_ranges() {
        assert_eq!(runs(&[3, 4, 8]), "3-4,8");
        assert_eq!(runs(&[3]), "3");
        assert_eq!(runs(&[3, 4, 5, 7, 9, 10]), "3-5,7,9-10");
    }
}
