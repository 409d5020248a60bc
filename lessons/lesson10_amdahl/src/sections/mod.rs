//! The lesson's sections, in the order they are shown; each measures (or computes) and prints
//! one idea.

pub mod s1_calculator;
pub mod s2_measured;
pub mod s3_back_to_p;
pub mod s4_gustafson;

use lesson10_amdahl::amdahl::Fit;
use serde_json::{Value, json};

/// A fit as the `--json` report gives it.
pub fn fit_figure(fit: Option<Fit>) -> Value {
    fit.map_or(Value::Null, |fit| {
        json!({
            "parallel_fraction": fit.parallel_fraction,
            "serial_fraction": fit.serial_fraction,
            "rms_relative_error": fit.rms_relative_error,
            "points_used": fit.points_used,
            "clamped": fit.clamped,
        })
    })
}

/// What to add after a fitted P that had to be clamped into 0..1, after `lead` (`"; "` inside
/// parentheses already open, `" ("` to open them); nothing when it was not clamped.
pub fn clamped_note(fit: &Fit, lead: &str) -> String {
    if !fit.clamped {
        return String::new();
    }
    let note = "clamped to 0..1: no parallel fraction fits these measurements well";
    if lead.ends_with('(') {
        format!("{lead}{note})")
    } else {
        format!("{lead}{note}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lesson10_amdahl::amdahl;

    #[test]
    fn a_clamped_fit_says_so() {
        let mut fit = amdahl::fit_parallel_fraction(&[(2.0, 0.8)]).unwrap();
        assert!(fit.clamped);
        assert_eq!(fit.parallel_fraction, 0.0);
        assert!(clamped_note(&fit, "; ").starts_with("; clamped to 0..1"));
        assert!(clamped_note(&fit, " (").ends_with("well)"));
        fit.clamped = false;
        assert_eq!(clamped_note(&fit, "; "), "");
        assert_eq!(fit_figure(Some(fit))["points_used"], 1);
    }
}
