//! Section 3: the cost of moving bytes between processes, measured without the decompression.

use crate::Params;
use crate::parallel_bzip2::{decompress_on_process_pool, start_decompress_pool};
use crate::pool_timing::measured_on;
use course::table::Table;
use course::timing::{self, format};
use course::{Lesson, say};
use procpool::{EncodeAs, ProcessPool, Wire};
use std::time::Duration;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (book, n, n_requests) = (&p.book[..], p.n_workers, p.n_requests);
    let requests: Vec<&[u8]> = vec![&p.compressed; n_requests];
    let results: Vec<&[u8]> = vec![book; n_requests];
    let (pool_time, measured_in) = match p.pool_time {
        Some(time) => (time, "section 2"),
        None => {
            say!(
                lesson,
                "  (Section 2 did not run: the process pool's time is measured here, once.)"
            );
            let mut pool = start_decompress_pool(n)?;
            let ((), measurement) =
                measured_on(&mut pool, |pool| decompress_on_process_pool(&requests, pool).map(drop))?;
            pool.shutdown()?;
            p.pool_time = Some(measurement.wall);
            (measurement.wall, "just now")
        }
    };

    // 1. Turning requests and results into bytes and back, in this process alone.
    let runs = lesson.pick(1, 3);
    let (_, serializing) = timing::repeat(0, runs, || {
        serialize_round_trip(&requests) + serialize_round_trip(&results)
    });
    // 2. Through real pipes to real workers, with no bzip2: each worker answers each request
    //    with a copy of the book, the same bytes a decompression would return.
    let mut echo = ProcessPool::start(n, |_request: Vec<u8>| book.to_vec())?;
    let (outcomes, piping) = timing::repeat(0, runs, || {
        echo.map(requests.iter().copied(), 1).map(|replies| replies.len())
    });
    for outcome in outcomes {
        outcome?;
    }
    let moved = echo.last_map().clone();
    echo.shutdown()?;

    let share = |part: Duration| format::percent(timing::ratio(part, pool_time));
    let (serializing, piping) = (serializing.median().wall, piping.median().wall);
    let mut table = Table::new(&["step", "time", "share of the process pool's time"]);
    table.row([
        "encode + decode every request and result (one process)".to_string(),
        format::duration(serializing),
        share(serializing),
    ]);
    table.row([
        format!("the same bytes through {n} workers' pipes, no bzip2"),
        format::duration(piping),
        share(piping),
    ]);
    table.row([
        format!("decompressing on the process pool ({measured_in})"),
        format::duration(pool_time),
        "100%".to_string(),
    ]);
    lesson.table(&table);
    say!(
        lesson,
        "  Bytes moved per run: {} of requests to the workers, {} of results back ({} through the \
         pipes). The threads moved none: they read the request in place and handed each result \
         over by pointer.",
        format::bytes(moved.bytes_sent),
        format::bytes(moved.bytes_received),
        format::throughput(moved.bytes_sent + moved.bytes_received, piping)
    );
    lesson.figure("serialize_round_trip_s", serializing.as_secs_f64());
    lesson.figure("pipe_round_trip_s", piping.as_secs_f64());
    lesson.figure("bytes_to_workers", moved.bytes_sent);
    lesson.figure("bytes_from_workers", moved.bytes_received);
    lesson.figure("shipping_share_of_pool_time", timing::ratio(piping, pool_time));
    lesson.notice(&format!(
        "Moving the bytes took {} of the process pool's time here: each request carries \
         milliseconds of decompression for every few hundred kB it moves. With less work per byte \
         (lesson 06's word count) the copies cost more than the work itself.",
        format::percent(timing::ratio(piping, pool_time))
    ));
    Ok(())
}

/// Encodes every item as a process pool would send it, decodes it back; returns bytes handled.
fn serialize_round_trip(items: &[&[u8]]) -> usize {
    let mut message = Vec::new();
    let mut handled = 0;
    for item in items {
        message.clear();
        EncodeAs::<Vec<u8>>::encode_as(item, &mut message);
        let rebuilt = Vec::<u8>::decode(&mut &message[..]).map_or(0, |bytes| bytes.len());
        handled += std::hint::black_box(rebuilt);
    }
    handled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializing_handles_every_byte() {
        let a = vec![1u8; 1000];
        let b = vec![2u8; 10];
        assert_eq!(serialize_round_trip(&[&a, &b]), 1010);
    }
}
