//! The calculator's own flags, checked as they are parsed: a wanted speedup, and speedups
//! measured elsewhere. A value Amdahl's law cannot produce is refused with one line.

use course::timing::format;

/// `--want`: a speedup of at least 1.
pub fn parse_wanted_speedup(text: &str) -> Result<f64, String> {
    let value: f64 = text.trim().parse().map_err(|_| "not a number".to_string())?;
    if !value.is_finite() || value < 1.0 {
        return Err("a wanted speedup is at least 1".to_string());
    }
    Ok(value)
}

/// `--speedups`: one `WORKERS:SPEEDUP` pair, where the speedup is from 1 to the number of
/// workers: Amdahl's law never gives less than one worker's speed, nor more than linear.
pub fn parse_measured_speedup(text: &str) -> Result<(usize, f64), String> {
    let (workers, speedup) = text
        .split_once(':')
        .ok_or_else(|| "expected WORKERS:SPEEDUP, like 4:3.4".to_string())?;
    let workers: usize = workers
        .trim()
        .parse()
        .map_err(|_| format!("'{workers}' is not a whole number of workers"))?;
    if !(1..=1_000_000).contains(&workers) {
        return Err("the number of workers must be from 1 to 1000000".to_string());
    }
    let speedup: f64 = speedup
        .trim()
        .parse()
        .map_err(|_| format!("'{speedup}' is not a number"))?;
    if !speedup.is_finite() || speedup <= 0.0 {
        return Err("a speedup is a positive number".to_string());
    }
    let on = format::plural(workers as u64, "worker");
    if speedup < 1.0 {
        return Err(format!(
            "a speedup of {speedup} on {on} is below 1, slower than one worker: Amdahl's law allows from 1 to N on N workers"
        ));
    }
    if speedup > workers as f64 {
        return Err(format!(
            "a speedup of {speedup} on {on} is above {workers}: Amdahl's law allows at most N on N workers"
        ));
    }
    Ok((workers, speedup))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_speedups_are_checked() {
        assert_eq!(parse_measured_speedup("4:3.4"), Ok((4, 3.4)));
        assert_eq!(parse_measured_speedup(" 2 : 2 "), Ok((2, 2.0)));
        assert!(parse_measured_speedup("2:2.5").unwrap_err().contains("above 2"));
        assert!(parse_measured_speedup("1:1.5").unwrap_err().contains("on 1 worker is"));
        assert!(parse_measured_speedup("2:0.5").unwrap_err().contains("below 1"));
        assert_eq!(parse_measured_speedup("1:1"), Ok((1, 1.0)));
        assert!(parse_measured_speedup("0:1").is_err());
        assert!(parse_measured_speedup("4").is_err());
        assert!(parse_measured_speedup("4:-1").is_err());
        assert!(parse_measured_speedup("x:1").is_err());
        assert!(parse_measured_speedup("4:NaN").is_err());
        assert!(parse_wanted_speedup("0.5").is_err());
        assert!(parse_wanted_speedup("inf").is_err());
        assert_eq!(parse_wanted_speedup("10"), Ok(10.0));
    }
}
