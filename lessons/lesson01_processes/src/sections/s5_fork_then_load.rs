//! Section 5: what fork shares (every page) until one is written, measured in a child that
//! reads and then writes part of its parent's data; then what fork itself costs as the
//! parent's memory grows. Both are why the lecture says "fork, then load data".

use crate::child_programs::{EXIT, READ, READY, WRITE, copy_on_write_child};
use crate::{Params, link, observe, processes, tracked};
use anyhow::{Context, bail};
use course::table::Table;
use course::timing::{Latencies, format};
use course::{Lesson, say};
use nix::sys::wait::WaitStatus;
use nix::unistd::{Pid, getpid};
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Duration;

/// Memory of the child and of the parent at one moment.
#[derive(Debug, Serialize)]
struct MemoryMoment {
    moment: String,
    child: Option<observe::Rollup>,
    parent: Option<observe::Rollup>,
    child_faults: Option<u64>,
}

fn memory_moment(moment: &str, child: Pid, parent: Pid) -> MemoryMoment {
    MemoryMoment {
        moment: moment.to_string(),
        child: observe::rollup(child.as_raw()),
        parent: observe::rollup(parent.as_raw()),
        child_faults: observe::snapshot(child.as_raw()).map(|s| s.minor_faults),
    }
}

/// `processes::load_data`, with a refusal of the memory named as an error, not an abort.
fn load(bytes: usize, page: usize) -> anyhow::Result<Vec<u8>> {
    processes::load_data(bytes, page).map_err(|error| {
        let limit = course::limits::address_space()
            .map(|(limit, used)| {
                format!(
                    "; the address-space limit (ulimit -v) is {}, with {} in use",
                    format::bytes(limit),
                    format::bytes(used)
                )
            })
            .unwrap_or_default();
        anyhow::anyhow!("could not load {} of data: {error}{limit}", format::bytes(bytes as u64))
    })
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    copy_on_write(lesson, p.buffer_mib, p.write_fraction)?;
    fork_cost(lesson, p.fork_mib, p.samples)?;
    lesson.notice(
        "After fork, memory is shared until written: the child's private memory grew by exactly what \
         it wrote, one page fault per page. fork itself copies page tables, not pages, and costs more \
         the more memory the parent holds: fork first, then load.",
    );
    Ok(())
}

/// The parent loads data and forks; the child reads all of it, then writes part of it.
fn copy_on_write(lesson: &Lesson, buffer_mib: usize, write_fraction: f64) -> anyhow::Result<()> {
    let page = observe::page_size() as usize;
    let size = buffer_mib << 20;
    let written = ((size as f64 * write_fraction) as usize) / page * page;
    lesson.param("write_fraction", write_fraction);
    say!(
        lesson,
        "  The parent loads {} of data, then forks. The child reads all of it, then writes {} of it ({}).",
        format::bytes(size as u64),
        format::percent(write_fraction),
        format::bytes(written as u64)
    );
    let mut data = load(size, page)?;
    let parent_sum = processes::checksum(&data);
    let me = getpid();
    let (pid, link) = link::fork_linked(|end| copy_on_write_child(&end, &mut data, written))?;
    let timeout = Duration::from_secs(60);
    if link.receive(timeout)? != READY {
        bail!("the copy-on-write child did not start");
    }
    let mut rows = vec![memory_moment("just forked", pid, me)];
    link.send(READ)?;
    let child_sum: u64 = link
        .receive_line(timeout)?
        .trim()
        .parse()
        .context("the child's checksum")?;
    rows.push(memory_moment("child read every byte", pid, me));
    link.send(WRITE)?;
    link.receive(timeout)?;
    rows.push(memory_moment(
        &format!("child wrote {}", format::bytes(written as u64)),
        pid,
        me,
    ));
    link.send(EXIT)?;
    let status = tracked::reap(pid)?;
    drop(data);
    if status != WaitStatus::Exited(pid, 0) {
        bail!("the copy-on-write child ended with {status:?}");
    }
    lesson.figure("moments", &rows);
    lesson.figure("checksum", child_sum);
    lesson.checked(
        child_sum == parent_sum,
        format!("The child's checksum equals the parent's ({child_sum}): it read the same data, without a copy."),
    );
    if child_sum != parent_sum {
        bail!("the child read a checksum of {child_sum}, the parent wrote {parent_sum}");
    }
    if rows.iter().any(|row| row.child.is_none()) {
        say!(lesson, "  (memory figures cannot be read on this platform)");
        return Ok(());
    }
    let mut table = Table::new(&[
        "  moment",
        "child RSS",
        "shared",
        "private",
        "faults",
        "parent private",
        "PSS, both",
    ]);
    for row in &rows {
        let (child, parent) = (row.child.unwrap_or_default(), row.parent.unwrap_or_default());
        table.row([
            format!("  {}", row.moment),
            format::bytes(child.rss),
            format::bytes(child.shared),
            format::bytes(child.private_dirty),
            format::count(row.child_faults.unwrap_or(0)),
            format::bytes(parent.private_dirty),
            format::bytes(child.pss + parent.pss),
        ]);
    }
    lesson.table(&table);
    let (first, last) = (rows[0].child.unwrap_or_default(), rows[2].child.unwrap_or_default());
    let copied = last.private_dirty.saturating_sub(first.private_dirty);
    let faults = rows[2]
        .child_faults
        .unwrap_or(0)
        .saturating_sub(rows[1].child_faults.unwrap_or(0));
    // A few pages of the child's own stack and globals come on top of what it wrote.
    let close = copied.abs_diff(written as u64) < 1 << 20;
    lesson.checked(
        close,
        format!(
            "Writing {} made {} private to the child ({} page faults, one per {} page copied).",
            format::bytes(written as u64),
            format::bytes(copied),
            format::count(faults),
            format::bytes(page as u64)
        ),
    );
    say!(
        lesson,
        "  'parent private' grew too: the copied pages are no longer shared, so the originals are the \
         parent's alone. PSS (the two counted once) grew by the copy, not by the data."
    );
    lesson.figure("predicted_copy_bytes", written);
    lesson.figure("measured_copy_bytes", copied);
    lesson.figure("copy_faults", faults);
    lesson.reveal(
        "Workers forked from a CPython parent only *read* its objects. Do they copy them?",
        "Yes, page by page: using an object writes its reference count, and that write copies the \
         page. Hence: fork the workers first, then let each load only the data it needs.",
    )
}

/// The cost of fork itself as the parent's memory grows.
fn fork_cost(lesson: &Lesson, fork_mib: usize, samples: usize) -> anyhow::Result<()> {
    say!(
        lesson,
        "  fork's own cost: the kernel copies the parent's page tables (not its pages). Each fork timed \
         {samples} times, its child exiting at once, while the parent holds more and more memory:"
    );
    let page = observe::page_size() as usize;
    let mut sizes = vec![0, fork_mib / 16, fork_mib / 4, fork_mib];
    sizes.dedup();
    let me = getpid();
    let mut measured = Vec::new();
    for &mib in &sizes {
        let held = load(mib << 20, page)?;
        let page_tables = observe::status(me.as_raw()).and_then(|s| s.vm_page_tables);
        let mut fork_returns = Latencies::new();
        let mut fork_to_reaped = Latencies::new();
        for _ in 0..samples {
            fork_to_reaped.time(|| -> anyhow::Result<()> {
                let pid = fork_returns.time(|| tracked::fork(|| 0))?;
                tracked::reap(pid)?;
                Ok(())
            })?;
        }
        std::hint::black_box(&held);
        drop(held);
        measured.push((mib, page_tables, fork_returns, fork_to_reaped));
    }
    let mut table = Table::new(&["  held", "page tables", "fork() returns", "fork → reaped", ""]).left(4);
    let slowest = measured.iter().map(|m| m.3.quantile(0.5)).max().unwrap_or_default();
    for (mib, tables, returns, reaped) in &measured {
        table.row([
            format!("  {}", format::bytes((*mib as u64) << 20)),
            tables.map_or("-".to_string(), format::bytes),
            format::duration(returns.quantile(0.5)),
            format::duration(reaped.quantile(0.5)),
            course::chart::bar(reaped.quantile(0.5).as_secs_f64(), slowest.as_secs_f64(), 24),
        ]);
    }
    lesson.table(&table);
    // The full latency summaries (count, p50, p90, p99, max) for --json, by row.
    let label = |mib: usize, tables: &Option<u64>| match tables {
        Some(bytes) => format!(
            "{} held (page tables {})",
            format::bytes((mib as u64) << 20),
            format::bytes(*bytes)
        ),
        None => format!("{} held", format::bytes((mib as u64) << 20)),
    };
    for (key, which) in [("fork_returns", 2), ("fork_to_reaped", 3)] {
        let mut summaries = Map::new();
        for (mib, tables, returns, reaped) in &measured {
            let latencies: &Latencies = if which == 2 { returns } else { reaped };
            summaries.insert(
                label(*mib, tables),
                serde_json::to_value(latencies.summary()).unwrap_or(Value::Null),
            );
        }
        lesson.figure(key, Value::Object(summaries));
    }
    if let (Some(smallest), Some(largest)) = (measured.first(), measured.last()) {
        let growth = course::timing::ratio(largest.2.quantile(0.5), smallest.2.quantile(0.5));
        say!(
            lesson,
            "  (medians) With {} held, fork() takes {} as long as with {} held: a pool forked after \
             loading pays it for every worker.",
            format::bytes((largest.0 as u64) << 20),
            format::times(growth),
            format::bytes((smallest.0 as u64) << 20)
        );
        lesson.figure("fork_growth", growth);
    }
    lesson.figure(
        "page_tables",
        measured
            .iter()
            .map(|(mib, tables, ..)| serde_json::json!({ "held_mib": mib, "page_table_bytes": tables }))
            .collect::<Vec<_>>(),
    );
    Ok(())
}
