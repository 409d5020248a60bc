//! Section 3: how exactly one update disappears, step by step (the model in `interleaving.rs`).

use crate::Params;
use crate::interleaving::{self, Op};
use course::chart::Bars;
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};
use std::collections::BTreeMap;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let n_threads = 2;
    let increments = p.trace_increments;
    let (schedule, draws) = interleaving::losing_schedule(lesson.seed(), n_threads, increments);
    let trace = interleaving::run(n_threads, increments, &schedule)?;
    say!(
        lesson,
        "  Threads A and B each add 1, {} as load / add / store, in the order of schedule {} \
         (drawn from --seed {}):",
        format::plural(increments, "time"),
        interleaving::schedule_text(&schedule),
        lesson.seed()
    );
    let mut table = Table::new(&["step", "thread", "does", "A holds", "B holds", "counter", ""])
        .left(1)
        .left(2)
        .left(6);
    let register = |value: Option<u64>| value.map_or("·".to_string(), |v| v.to_string());
    for (step, event) in trace.events.iter().enumerate() {
        let own = event.registers[event.thread].unwrap_or(0);
        let does = match event.op {
            Op::Load => format!("load counter → {own}"),
            Op::Add => format!("add 1 → {own}"),
            Op::Store => format!("store {own}"),
        };
        let note = if event.overwritten > 0 {
            format!("← stale: {} lost", format::plural(event.overwritten, "update"))
        } else {
            String::new()
        };
        table.row([
            (step + 1).to_string(),
            interleaving::thread_name(event.thread).to_string(),
            does,
            register(event.registers[0]),
            register(event.registers[1]),
            event.counter.to_string(),
            note,
        ]);
    }
    lesson.table(&table);
    lesson.checked(
        trace.lost_updates() == 0,
        format!(
            "final counter {}, expected {}: {} lost",
            trace.final_counter,
            trace.expected(),
            format::plural(trace.lost_updates(), "update")
        ),
    );

    let outcomes = interleaving::all_outcomes(n_threads, increments);
    let interleavings: u64 = outcomes.values().sum();
    say!(
        lesson,
        "  Every one of the {} possible interleavings, by final counter:",
        format::count(interleavings)
    );
    let mut bars = Bars::new().width(30);
    for (final_counter, count) in &outcomes {
        bars.row(
            format!("counter {final_counter}"),
            *count as f64,
            format!(
                "{} ({})",
                format::count(*count),
                format::percent(*count as f64 / interleavings as f64)
            ),
        );
    }
    lesson.bars(&bars);
    // A schedule for the class to work through by hand before the answer is shown.
    let mut rng = workloads::Rng::new(lesson.seed().wrapping_add(1));
    let your_turn = interleaving::random_schedule(&mut rng, n_threads, increments);
    let your_turn_answer = interleaving::final_counter(n_threads, increments, &your_turn)?;
    lesson.reveal(
        format!(
            "Your turn: after schedule {}, what does the counter hold?",
            interleaving::schedule_text(&your_turn)
        ),
        format!("Answer: {your_turn_answer}."),
    )?;
    lesson.figure(
        "your_turn",
        serde_json::json!({
            "schedule": interleaving::schedule_text(&your_turn),
            "final_counter": your_turn_answer,
        }),
    );

    let right = outcomes.get(&trace.expected()).copied().unwrap_or(0);
    lesson.figure("schedule", interleaving::schedule_text(&schedule));
    lesson.figure("schedules_drawn", draws);
    lesson.figure("final_counter", trace.final_counter);
    lesson.figure("expected", trace.expected());
    lesson.figure("lost_updates", trace.lost_updates());
    lesson.figure("interleavings", interleavings);
    lesson.figure("interleavings_right", right);
    lesson.figure(
        "interleavings_by_final_counter",
        outcomes
            .iter()
            .map(|(counter, count)| (counter.to_string(), *count))
            .collect::<BTreeMap<_, _>>(),
    );
    lesson.notice(&format!(
        "An update is lost when a thread stores a value it loaded before the other thread's store. \
         Only {right} of the {interleavings} interleavings are right: those where no two load–store \
         windows overlap.",
    ));
    Ok(())
}
