//! Saved progress: one small JSON file, `.homework/progress.json` at the top of the course
//! (git ignores the folder: it holds a `.gitignore` of its own). For each exercise it keeps
//! the hash of the files last checked (the student's file and the checks), whether they
//! passed, the speed verdict, how many hints were shown, and the backups `reset` made. `list`
//! answers from it at once, and checks again only an exercise whose files changed since.

use homework::speed::Report;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What is known about one exercise.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Entry {
    /// The hash of the student's file and the checks when they were last checked.
    pub hash: String,
    /// Whether every check passed then.
    pub passed: bool,
    /// Whether it compiled then.
    pub compiles: bool,
    /// Checks that passed and failed then.
    pub checks: usize,
    pub failed: Vec<String>,
    /// When (seconds since 1970).
    pub checked_at: u64,
    /// Hints shown so far (0 to 3).
    #[serde(default)]
    pub hints_shown: usize,
    /// The last speed verdict, after the last pass.
    #[serde(default)]
    pub speed: Option<Report>,
    /// Files that `reset` saved the student's versions in.
    #[serde(default)]
    pub backups: Vec<String>,
}

/// Every exercise's entry, by lesson (`lesson03_race`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    pub exercises: BTreeMap<String, Entry>,
}

/// The folder of saved progress and backups (`HOMEWORK_STATE` names another, for tests).
pub fn folder(root: &Path) -> PathBuf {
    std::env::var_os("HOMEWORK_STATE").map_or_else(|| root.join(".homework"), PathBuf::from)
}

impl Progress {
    /// The saved progress, or none yet (a file that cannot be read counts as none).
    pub fn load(root: &Path) -> Progress {
        std::fs::read_to_string(folder(root).join("progress.json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Writes the progress (to a temporary file first, so that a crash leaves the old one).
    pub fn save(&self, root: &Path) -> std::io::Result<()> {
        let dir = ensure_folder(root)?;
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let temporary = dir.join("progress.json.new");
        std::fs::write(&temporary, text + "\n")?;
        std::fs::rename(temporary, dir.join("progress.json"))
    }

    pub fn entry(&mut self, lesson: &str) -> &mut Entry {
        self.exercises.entry(lesson.to_string()).or_default()
    }
}

/// Makes `.homework/` with a `.gitignore` that ignores everything in it, itself included.
pub fn ensure_folder(root: &Path) -> std::io::Result<PathBuf> {
    let dir = folder(root);
    std::fs::create_dir_all(&dir)?;
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(ignore, "# Homework progress and backups: each student's own.\n*\n")?;
    }
    Ok(dir)
}

/// FNV-1a over the files' bytes (a missing file counts as empty), as 16 hex digits: enough to
/// notice that a file changed.
pub fn hash_files(paths: &[PathBuf]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in paths {
        for byte in std::fs::read(path).unwrap_or_default().into_iter().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// Seconds since 1970.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// `2026-05-03-1412` (UTC) for `seconds` since 1970: a backup's name sorts by time.
pub fn stamp(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let minutes_today = (seconds % 86_400) / 60;
    // Howard Hinnant's days-to-civil: the proleptic Gregorian date of a day count.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}-{:02}{:02}",
        minutes_today / 60,
        minutes_today % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_calendar_dates() {
        assert_eq!(stamp(0), "1970-01-01-0000");
        assert_eq!(stamp(951_782_400), "2000-02-29-0000");
        assert_eq!(stamp(1_777_817_640), "2026-05-03-1414");
    }

    #[test]
    fn a_changed_file_changes_the_hash() {
        let dir = std::env::temp_dir().join(format!("homework-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("exercise.rs");
        std::fs::write(&file, "fn a() {}").unwrap();
        let before = hash_files(std::slice::from_ref(&file));
        assert_eq!(before, hash_files(std::slice::from_ref(&file)));
        std::fs::write(&file, "fn b() {}").unwrap();
        assert_ne!(before, hash_files(std::slice::from_ref(&file)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
