//! One warning for several things a machine's limits made the lesson start fewer of (threads,
//! processes, programs alive at once in section 4); fitting each count is `course::limits::fit`.

use course::Lesson;

/// One warning per limit that made the lesson start fewer of something than `wanted`: each
/// entry is how many will start, what they are, and the limit in the way (if any).
pub fn warn_fewer(lesson: &Lesson, wanted: usize, fits: &[(usize, &str, Option<String>)]) {
    let mut limits: Vec<&String> = fits.iter().filter_map(|(_, _, limit)| limit.as_ref()).collect();
    limits.dedup();
    for limit in limits {
        let fewer: Vec<String> = fits
            .iter()
            .filter(|(_, _, l)| l.as_ref() == Some(limit))
            .map(|(n, what, _)| format!("{n} {what}"))
            .collect();
        lesson.warn(&format!(
            "{} alive at once instead of {wanted}: {limit}",
            fewer.join(" and ")
        ));
    }
}
