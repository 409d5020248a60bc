//! The machine and build every figure was measured on, as the header prints it and `--json`
//! reports it. Lesson 00 looks much deeper; this is the short version every lesson carries.

use serde::Serialize;

/// What a reader of any figure needs to know about where it was measured.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// Cores this process may run on: what `std::thread::available_parallelism` reports, after
    /// affinity masks and cgroup CPU quotas. The most a parallel speedup can reach.
    pub logical_cores: usize,
    /// Operating system, kernel release and distribution where known.
    pub os: String,
    pub arch: String,
    pub cpu_model: Option<String>,
    /// The Cargo profile the lesson was built with: `dev` (what `cargo run` uses) or `release`.
    pub profile: String,
    pub opt_level: String,
    /// False when built without optimizations: timings would then not be representative.
    pub optimized: bool,
    /// How busy the machine's cores were with other programs as the lesson started (0 = idle,
    /// 1 = every core busy), sampled from the kernel's counters over a moment; `None` where
    /// the OS does not tell. A busy machine takes cores from the lesson: speedups read low.
    pub busy_at_start: Option<f64>,
}

/// Above this share of all cores busy with other programs, the header warns.
const BUSY: f64 = 0.4;

impl Machine {
    pub fn detect() -> Self {
        let profile = match env!("COURSE_BUILD_PROFILE") {
            "debug" => "dev".to_string(),
            other => other.to_string(),
        };
        let opt_level = env!("COURSE_OPT_LEVEL").to_string();
        Machine {
            logical_cores: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            os: os_description(),
            arch: std::env::consts::ARCH.to_string(),
            cpu_model: cpu_model(),
            optimized: opt_level != "0",
            profile,
            opt_level,
            busy_at_start: busy_now(),
        }
    }

    /// The warnings a lesson header must show: figures that cannot mean what they usually do.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if !self.optimized {
            warnings.push(format!(
                "built without optimizations (profile {}, opt-level {}): timings are not representative; \
                 use the workspace's dev profile (`cargo run -p ...`) or --release",
                self.profile, self.opt_level
            ));
        }
        if let Some(busy) = self.busy_at_start
            && busy > BUSY
        {
            warnings.push(format!(
                "the machine is busy: other programs kept {:.0}% of its cores busy as the lesson started, \
                 so timings will vary and speedups read low; for representative figures, run it again when it is quiet",
                busy * 100.0
            ));
        }
        if self.logical_cores < 2 {
            warnings.push("only 1 core is available to this process: no parallel speedup can show here".to_string());
        }
        warnings
    }

    /// One line for the header: `2 logical cores · x86_64 · Linux 6.1 (Debian 12) · <cpu>`.
    pub fn summary(&self) -> String {
        let cores = if self.logical_cores == 1 {
            "1 logical core".to_string()
        } else {
            format!("{} logical cores", self.logical_cores)
        };
        let cpu = self
            .cpu_model
            .clone()
            .unwrap_or_else(|| "CPU model unknown".to_string());
        format!("{cores} · {} · {} · {cpu}", self.arch, self.os)
    }

    /// One line for the header: `dev profile, opt-level 3 (optimized)`.
    pub fn build(&self) -> String {
        let state = if self.optimized { "optimized" } else { "NOT optimized" };
        format!("{} profile, opt-level {} ({state})", self.profile, self.opt_level)
    }
}

/// The share of all cores' time spent busy over a short moment (`/proc/stat`), while this
/// process sleeps: what other programs are using.
fn busy_now() -> Option<f64> {
    fn totals() -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().find(|line| line.starts_with("cpu "))?;
        let ticks: Vec<u64> = line.split_whitespace().skip(1).filter_map(|n| n.parse().ok()).collect();
        // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
        let idle = ticks.get(3)? + ticks.get(4).copied().unwrap_or(0);
        Some((ticks.iter().take(8).sum(), idle))
    }
    let (total0, idle0) = totals()?;
    std::thread::sleep(std::time::Duration::from_millis(50));
    let (total1, idle1) = totals()?;
    let elapsed = total1.saturating_sub(total0);
    (elapsed > 0).then(|| 1.0 - idle1.saturating_sub(idle0) as f64 / elapsed as f64)
}

fn os_description() -> String {
    let family = std::env::consts::OS;
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|r| r.trim().to_string());
    let distribution = std::fs::read_to_string("/etc/os-release").ok().and_then(|text| {
        text.lines()
            .find_map(|line| line.strip_prefix("PRETTY_NAME="))
            .map(|name| name.trim_matches('"').to_string())
    });
    let family = match family {
        "linux" => "Linux",
        "macos" => "macOS",
        other => other,
    };
    match (kernel, distribution) {
        (Some(kernel), Some(distribution)) => format!("{family} {kernel} ({distribution})"),
        (Some(kernel), None) => format!("{family} {kernel}"),
        (None, Some(distribution)) => format!("{family} ({distribution})"),
        (None, None) => family.to_string(),
    }
}

fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    // x86 says "model name"; many ARM kernels say "Model" or only "CPU part".
    ["model name", "Model", "Hardware", "cpu model"].iter().find_map(|key| {
        text.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            (name.trim() == *key && !value.trim().is_empty())
                .then(|| value.split_whitespace().collect::<Vec<_>>().join(" "))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_at_least_one_core_and_a_profile() {
        let machine = Machine::detect();
        assert!(machine.logical_cores >= 1);
        assert!(!machine.profile.is_empty() && !machine.opt_level.is_empty());
        assert!(machine.summary().contains("logical core"));
        assert!(machine.build().contains("opt-level"));
    }

    #[test]
    fn one_core_and_no_optimization_are_warned_about() {
        let mut machine = Machine::detect();
        machine.logical_cores = 1;
        machine.optimized = false;
        machine.busy_at_start = Some(0.9);
        let warnings = machine.warnings();
        assert_eq!(warnings.len(), 3);
        assert!(warnings[0].contains("without optimizations"));
        assert!(warnings[1].contains("the machine is busy: other programs kept 90%"));
        assert!(warnings[2].contains("only 1 core"));
        machine.busy_at_start = Some(0.1);
        assert_eq!(machine.warnings().len(), 2);
    }
}
