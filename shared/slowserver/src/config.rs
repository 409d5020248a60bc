//! What the server does for each login, decided by the seed alone.

use crate::protocol::UserRecord;
use serde::Serialize;
use std::time::Duration;
use workloads::Rng;

/// How the server behaves. Every choice it makes for a login comes from `seed` and the login,
/// never from the order or the time requests arrive: the same seed gives the same records,
/// delays and failures to any number of clients in any order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    /// The usual time before an answer: the network and the remote server's work.
    #[serde(serialize_with = "as_millis")]
    pub delay: Duration,
    /// Each login's delay is `delay` moved by up to this much either way.
    #[serde(serialize_with = "as_millis")]
    pub jitter: Duration,
    /// Fraction of logins answered with `503 Service Unavailable` (after their delay).
    pub error_rate: f64,
    /// Fraction of logins that hang: answered only after `hang`, later than any sensible client
    /// timeout.
    pub timeout_rate: f64,
    /// How long a hanging login keeps its client waiting.
    #[serde(serialize_with = "as_millis")]
    pub hang: Duration,
    /// At most this many requests are worked on at once; the others queue (as a real API
    /// limits each client). `None`: no limit.
    pub max_in_flight: Option<usize>,
    /// The seed every per-login choice comes from.
    pub seed: u64,
    /// How many finished handshakes the kernel may queue before the server accepts them (the
    /// kernel caps it at `net.core.somaxconn`).
    pub backlog: u32,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl Default for Config {
    fn default() -> Self {
        Config {
            delay: Duration::from_millis(50),
            jitter: Duration::ZERO,
            error_rate: 0.0,
            timeout_rate: 0.0,
            hang: Duration::from_secs(60),
            max_in_flight: None,
            seed: 2016,
            backlog: 4096,
        }
    }
}

/// What happens to one login's request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Fate {
    /// Its record, after its delay.
    Record,
    /// `503 Service Unavailable`, after its delay.
    Error,
    /// Nothing until `hang` has passed: the client's timeout fires first.
    Hang,
}

/// The server's plan for one login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub delay: Duration,
    pub fate: Fate,
}

// Separate streams of random numbers per login, so that changing the error rate does not
// change anybody's record or delay.
const PLAN_STREAM: u64 = 0x706c_616e; // "plan"
const RECORD_STREAM: u64 = 0x7265_636f_7264; // "record"

impl Config {
    /// Checks the rates (each 0..=1, together at most 1) and the limit.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [("error rate", self.error_rate), ("timeout rate", self.timeout_rate)] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("the {name} must be between 0 and 1, not {rate}"));
            }
        }
        if self.error_rate + self.timeout_rate > 1.0 {
            return Err(format!(
                "the error rate ({}) and the timeout rate ({}) add up to more than 1",
                self.error_rate, self.timeout_rate
            ));
        }
        if self.max_in_flight == Some(0) {
            return Err("the server must be allowed at least one request at a time".to_string());
        }
        Ok(())
    }

    /// What the server will do for `login`: the same answer every time for the same seed.
    pub fn plan(&self, login: &str) -> Plan {
        let mut rng = self.rng_for(login, PLAN_STREAM);
        let fate_draw = rng.unit();
        let fate = if fate_draw < self.error_rate {
            Fate::Error
        } else if fate_draw < self.error_rate + self.timeout_rate {
            Fate::Hang
        } else {
            Fate::Record
        };
        let jitter_ns = u64::try_from(self.jitter.as_nanos()).unwrap_or(u64::MAX / 4);
        let delay_ns = u64::try_from(self.delay.as_nanos()).unwrap_or(u64::MAX / 4);
        // Uniform in delay ± jitter, never below zero.
        let moved = rng.between(0, 2 * jitter_ns);
        let delay = Duration::from_nanos((delay_ns + moved).saturating_sub(jitter_ns));
        Plan { delay, fate }
    }

    /// The record the server holds for `login` (it knows every login: a generated one).
    pub fn record(&self, login: &str) -> UserRecord {
        const FIRST: [&str; 16] = [
            "Ada", "Alan", "Barbara", "Donald", "Edsger", "Frances", "Grace", "John", "Ken", "Leslie", "Margaret",
            "Niklaus", "Radia", "Shafi", "Tony", "Yukihiro",
        ];
        const LAST: [&str; 16] = [
            "Allen",
            "Backus",
            "Byron",
            "Dijkstra",
            "Hamilton",
            "Hoare",
            "Hopper",
            "Knuth",
            "Lamport",
            "Liskov",
            "Matsumoto",
            "Perlman",
            "Goldwasser",
            "Thompson",
            "Turing",
            "Wirth",
        ];
        let mut rng = self.rng_for(login, RECORD_STREAM);
        let first = rng.pick(&FIRST).copied().unwrap_or("Ada");
        let last = rng.pick(&LAST).copied().unwrap_or("Byron");
        // Joined some time from 2008-01-01 (day 13,879 since 1970) to the end of 2024.
        let day = rng.between(13_879, 20_088);
        let second_of_day = rng.below(86_400);
        UserRecord {
            login: login.to_string(),
            name: Some(format!("{first} {last}")),
            id: rng.between(1, 99_999_999),
            created_at: iso_timestamp(day, second_of_day),
            public_repos: rng.below(300) as u32,
        }
    }

    fn rng_for(&self, login: &str, stream: u64) -> Rng {
        // Every byte of the login goes through a full 64-bit mix, so that logins differing in
        // one letter ("user0004", "user0014") get unrelated numbers.
        let mut state = mix64(self.seed ^ mix64(stream));
        for byte in login.bytes() {
            state = mix64(state ^ u64::from(byte));
        }
        Rng::new(state)
    }
}

/// SplitMix64's finalizer: every input bit changes about half of the output bits.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `2011-03-04T05:06:07Z` for a day counted from 1970-01-01 and a second within it.
fn iso_timestamp(day: u64, second_of_day: u64) -> String {
    let (year, month, day_of_month) = civil_from_days(day as i64);
    format!(
        "{year:04}-{month:02}-{day_of_month:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// The calendar date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day_of_month = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day_of_month)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_calendar_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(13_879), (2008, 1, 1));
        assert_eq!(civil_from_days(20_088), (2024, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(iso_timestamp(0, 3661), "1970-01-01T01:01:01Z");
    }

    #[test]
    fn plans_and_records_depend_on_seed_and_login_only() {
        let config = Config {
            jitter: Duration::from_millis(10),
            error_rate: 0.3,
            timeout_rate: 0.2,
            ..Config::default()
        };
        assert_eq!(config.plan("ada"), config.plan("ada"));
        assert_eq!(config.record("ada"), config.record("ada"));
        let other_seed = Config {
            seed: 7,
            ..config.clone()
        };
        let logins: Vec<String> = (0..50).map(|i| format!("user{i}")).collect();
        assert!(logins.iter().any(|l| config.record(l) != other_seed.record(l)));
        // Changing the rates changes fates, never records or delays.
        let calmer = Config {
            error_rate: 0.0,
            timeout_rate: 0.0,
            ..config.clone()
        };
        for login in &logins {
            assert_eq!(config.record(login), calmer.record(login));
            assert_eq!(config.plan(login).delay, calmer.plan(login).delay);
            assert_eq!(calmer.plan(login).fate, Fate::Record);
        }
    }

    #[test]
    fn delays_stay_within_the_jitter() {
        let config = Config {
            delay: Duration::from_millis(100),
            jitter: Duration::from_millis(20),
            ..Config::default()
        };
        let delays: Vec<Duration> = (0..500).map(|i| config.plan(&format!("u{i}")).delay).collect();
        assert!(delays.iter().all(|d| (80..=120).contains(&d.as_millis())));
        assert!(delays.iter().any(|d| d.as_millis() < 90) && delays.iter().any(|d| d.as_millis() > 110));
        let no_jitter = Config::default();
        assert_eq!(no_jitter.plan("x").delay, no_jitter.delay);
    }

    #[test]
    fn fates_follow_the_rates() {
        let count =
            |config: &Config, fate: Fate| (0..2000).filter(|i| config.plan(&format!("u{i}")).fate == fate).count();
        let all_errors = Config {
            error_rate: 1.0,
            ..Config::default()
        };
        assert_eq!(count(&all_errors, Fate::Error), 2000);
        let all_hang = Config {
            timeout_rate: 1.0,
            ..Config::default()
        };
        assert_eq!(count(&all_hang, Fate::Hang), 2000);
        let some = Config {
            error_rate: 0.1,
            timeout_rate: 0.05,
            ..Config::default()
        };
        // Two thousand draws land near the rates (binomial: far inside these bounds).
        assert!((120..=280).contains(&count(&some, Fate::Error)));
        assert!((50..=150).contains(&count(&some, Fate::Hang)));
    }

    #[test]
    fn bad_rates_are_refused() {
        let too_much = Config {
            error_rate: 0.7,
            timeout_rate: 0.4,
            ..Config::default()
        };
        assert!(too_much.validate().unwrap_err().contains("add up"));
        let negative = Config {
            error_rate: -0.1,
            ..Config::default()
        };
        assert!(negative.validate().is_err());
        assert!(Config::default().validate().is_ok());
    }
}
