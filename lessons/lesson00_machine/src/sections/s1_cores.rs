//! Section 1: how many things can run at the same moment, and what lowers it for this program.

use crate::Params;
use crate::cores;
use course::table::Table;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, _: &mut Params) -> anyhow::Result<()> {
    let cores = cores::cores();
    let known = |value: Option<String>| value.unwrap_or_else(|| "cannot be read here".to_string());
    let mhz = |value: Option<f64>| known(value.map(|mhz| format!("{mhz:.0}")));
    let number = |value: Option<usize>| known(value.map(|n| n.to_string()));
    let mut table = Table::new(&["", ""]).left(1);
    table.row(["CPU model".to_string(), known(cores.model.clone())]);
    table.row(["clock now (MHz)".to_string(), mhz(cores.mhz_now)]);
    table.row(["clock max (MHz)".to_string(), mhz(cores.mhz_max)]);
    table.row(["sockets".to_string(), number(cores.sockets)]);
    table.row(["physical cores".to_string(), number(cores.physical)]);
    table.row(["logical CPUs online".to_string(), number(cores.online)]);
    table.row([
        "allowed by affinity".to_string(),
        known(cores.affinity.as_deref().map(cpu_list)),
    ]);
    table.row([
        "cgroup CPU quota".to_string(),
        cores.cgroup_quota.map_or("none".into(), |q| format!("{q:.2} cores")),
    ]);
    table.row(["available to this program".to_string(), cores.available.to_string()]);
    lesson.table(&table);
    if let (Some(physical), Some(online)) = (cores.physical, cores.online)
        && online > physical
    {
        say!(
            lesson,
            "  {online} logical CPUs on {physical} physical cores: each core runs {} hardware threads \
             (SMT), which share one core's execution units: CPU-bound work gains far less from the second.",
            online / physical
        );
    }
    if let Some(online) = cores.online
        && cores.available < online
    {
        say!(
            lesson,
            "  This program may use {} of the {online} online CPUs (affinity or a cgroup quota).",
            cores.available
        );
    }
    lesson.figure("cores", &cores);
    lesson.notice(&format!(
        "{} is the number that matters: no CPU-bound job here can run more than {}× faster than on one core.",
        cores.available, cores.available
    ));
    Ok(())
}

/// `[0, 1, 2, 5]` as `4 (CPUs 0-2,5)`.
fn cpu_list(cpus: &[usize]) -> String {
    let mut ranges: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        while i + 1 < cpus.len() && cpus[i + 1] == cpus[i] + 1 {
            i += 1;
        }
        ranges.push(if cpus[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", cpus[i])
        });
        i += 1;
    }
    let noun = if cpus.len() == 1 { "CPU" } else { "CPUs" };
    format!("{} ({noun} {})", cpus.len(), ranges.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_are_compact() {
        assert_eq!(cpu_list(&[0, 1, 2, 5]), "4 (CPUs 0-2,5)");
        assert_eq!(cpu_list(&[3]), "1 (CPU 3)");
        assert_eq!(cpu_list(&[0, 1]), "2 (CPUs 0-1)");
    }
}
