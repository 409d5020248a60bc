//! Numbers for humans, in one style everywhere: three significant digits and a unit chosen so
//! the number sits between 1 and 1000 (`812 ns`, `3.42 µs`, `12.3 ms`, `1.25 s`).
//! Sizes are binary (KiB, MiB, GiB, as memory is counted); throughput is decimal (MB/s).

use std::time::Duration;

/// Three significant digits: `1.23`, `12.3`, `123`.
pub fn significant(value: f64) -> String {
    let magnitude = value.abs();
    if !value.is_finite() {
        return value.to_string();
    }
    let decimals = if magnitude == 0.0 || magnitude >= 100.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else {
        3
    };
    let text = format!("{value:.decimals$}");
    // Rounding can carry into a fourth digit (99.96 -> "100.0"): drop the extra decimal.
    let carried_at = [f64::INFINITY, 100.0, 10.0, 1.0][decimals];
    if text.parse::<f64>().is_ok_and(|rounded| rounded.abs() >= carried_at) {
        let fewer = decimals - 1;
        return format!("{value:.fewer$}");
    }
    text
}

/// A duration with the unit that suits it: `812 ns`, `3.42 µs`, `12.3 ms`, `1.25 s`.
pub fn duration(duration: Duration) -> String {
    seconds(duration.as_secs_f64())
}

/// Seconds as a duration: see [`duration`].
pub fn seconds(seconds: f64) -> String {
    let magnitude = seconds.abs();
    let (value, unit) = if magnitude == 0.0 {
        (0.0, "s")
    } else if magnitude < 1e-6 {
        (seconds * 1e9, "ns")
    } else if magnitude < 1e-3 {
        (seconds * 1e6, "µs")
    } else if magnitude < 1.0 {
        (seconds * 1e3, "ms")
    } else {
        (seconds, "s")
    };
    format!("{} {unit}", significant(value))
}

/// A size in bytes: `512 B`, `4.00 KiB`, `1.50 MiB`, `23.4 GiB`.
pub fn bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for candidate in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = candidate;
    }
    format!("{} {unit}", significant(value))
}

/// Throughput in decimal megabytes per second: `123 MB/s`, `1.20 GB/s`.
pub fn throughput(bytes: u64, elapsed: Duration) -> String {
    let per_second = if elapsed.is_zero() {
        0.0
    } else {
        bytes as f64 / elapsed.as_secs_f64()
    };
    if per_second >= 1e9 {
        format!("{} GB/s", significant(per_second / 1e9))
    } else if per_second >= 1e6 || per_second == 0.0 {
        format!("{} MB/s", significant(per_second / 1e6))
    } else {
        format!("{} kB/s", significant(per_second / 1e3))
    }
}

/// Operations per second: `950 /s`, `12.3 k/s`, `4.56 M/s`, `1.20 G/s`.
pub fn rate(count: u64, elapsed: Duration) -> String {
    let per_second = if elapsed.is_zero() {
        0.0
    } else {
        count as f64 / elapsed.as_secs_f64()
    };
    let (value, prefix) = if per_second >= 1e9 {
        (per_second / 1e9, "G")
    } else if per_second >= 1e6 {
        (per_second / 1e6, "M")
    } else if per_second >= 1e3 {
        (per_second / 1e3, "k")
    } else {
        (per_second, "")
    };
    format!("{} {prefix}/s", significant(value))
}

/// A ratio such as a speedup: `1.97×`.
pub fn times(ratio: f64) -> String {
    format!("{}×", significant(ratio))
}

/// A fraction as a percentage: `0.984` → `98%`, `0.0042` → `0.42%`.
pub fn percent(fraction: f64) -> String {
    let value = fraction * 100.0;
    if value.abs() >= 10.0 || value == 0.0 {
        format!("{value:.0}%")
    } else {
        format!("{}%", significant(value))
    }
}

/// A change as a signed percentage: `0.12` → `+12%`, `-0.05` → `−5.0%`, `0.0` → `±0%`.
pub fn signed_percent(change: f64) -> String {
    if change == 0.0 {
        return "±0%".to_string();
    }
    let sign = if change > 0.0 { "+" } else { "−" };
    format!("{sign}{}", percent(change.abs()))
}

/// A count and its noun, plural when it is not one: `1 thread`, `2 threads`, `10,000 increments`.
/// Nouns whose plural is not `-s` give it: `plural(3, "process")` → `3 processes`.
pub fn plural(n: u64, noun: &str) -> String {
    let word = if n == 1 {
        noun.to_string()
    } else if noun.ends_with('s') || noun.ends_with("sh") || noun.ends_with("ch") || noun.ends_with('x') {
        format!("{noun}es")
    } else if let Some(stem) = noun.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{noun}s")
    };
    format!("{} {word}", count(n))
}

/// A count with thousands separators: `1,234,567`.
pub fn count(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_unit_and_three_digits() {
        assert_eq!(duration(Duration::from_nanos(812)), "812 ns");
        assert_eq!(duration(Duration::from_nanos(3_420)), "3.42 µs");
        assert_eq!(duration(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(duration(Duration::from_millis(1_250)), "1.25 s");
        assert_eq!(duration(Duration::from_secs(125)), "125 s");
        assert_eq!(duration(Duration::ZERO), "0 s");
        assert_eq!(seconds(2.1e-9), "2.10 ns");
        assert_eq!(seconds(4.59e-9), "4.59 ns");
        assert_eq!(seconds(0.4e-9), "0.400 ns");
    }

    #[test]
    fn rounding_never_shows_four_digits() {
        assert_eq!(significant(99.96), "100");
        assert_eq!(significant(9.999), "10.0");
        assert_eq!(significant(0.0), "0");
        assert_eq!(significant(-1.5), "-1.50");
        assert_eq!(significant(0.05), "0.050");
        assert_eq!(significant(0.9999), "1.00");
    }

    #[test]
    fn sizes_rates_and_ratios() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(4096), "4.00 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 / 2), "1.50 MiB");
        assert_eq!(throughput(123_000_000, Duration::from_secs(1)), "123 MB/s");
        assert_eq!(throughput(2_400_000_000, Duration::from_secs(2)), "1.20 GB/s");
        assert_eq!(rate(4_560_000, Duration::from_secs(1)), "4.56 M/s");
        assert_eq!(rate(950, Duration::from_secs(1)), "950 /s");
        assert_eq!(times(1.968), "1.97×");
        assert_eq!(percent(0.984), "98%");
        assert_eq!(percent(0.0042), "0.420%");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(signed_percent(0.12), "+12%");
        assert_eq!(signed_percent(-0.05), "−5.00%");
        assert_eq!(signed_percent(0.0), "±0%");
        assert_eq!(plural(1, "thread"), "1 thread");
        assert_eq!(plural(2, "thread"), "2 threads");
        assert_eq!(plural(3, "process"), "3 processes");
        assert_eq!(plural(0, "entry"), "0 entries");
        assert_eq!(plural(2, "day"), "2 days");
        assert_eq!(plural(10_000, "increment"), "10,000 increments");
    }
}
