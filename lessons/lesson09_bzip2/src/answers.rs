//! What each version of a comparison computed, summed up so that every version can be checked
//! against the others and the result printed in one line.

use crate::codec;
use crate::parallel_bzip2::Reply;
use course::timing::format;

/// What a version of the requests computed: how many replies are the book, the bytes out, the
/// errors. Every version must give the same, with every request identical.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unpacked {
    pub requests: usize,
    pub identical: usize,
    pub bytes: u64,
    pub errors: usize,
}

impl Unpacked {
    pub fn of(replies: &[Reply], book: &[u8]) -> Self {
        Unpacked {
            requests: replies.len(),
            identical: replies.iter().filter(|reply| reply.as_deref() == Ok(book)).count(),
            bytes: replies.iter().flatten().map(|output| output.len() as u64).sum(),
            errors: replies.iter().filter(|reply| reply.is_err()).count(),
        }
    }
}

impl std::fmt::Display for Unpacked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} identical to the book ({}), {}",
            self.identical,
            self.requests,
            format::bytes(self.bytes),
            format::plural(self.errors as u64, "error")
        )
    }
}

/// What a standard multi-stream decoder reads back from a compressed file: its length and
/// fingerprint, or why it cannot be read.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadBack(pub Result<(u64, u64), String>);

impl ReadBack {
    pub fn of(compressed: &[u8], limit: u64) -> Self {
        ReadBack(
            codec::decompress_all_streams(compressed, limit)
                .map(|bytes| (bytes.len() as u64, codec::fingerprint(&bytes))),
        )
    }
}

impl std::fmt::Display for ReadBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Ok((bytes, fingerprint)) => {
                write!(f, "{} read back, fingerprint {fingerprint:016x}", format::bytes(*bytes))
            }
            Err(why) => write!(f, "unreadable: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_sentences() {
        let book = b"a book".to_vec();
        let replies: Vec<Reply> = vec![Ok(book.clone()), Ok(book.clone()), Err("truncated".into())];
        let unpacked = Unpacked::of(&replies, &book);
        assert_eq!((unpacked.identical, unpacked.bytes, unpacked.errors), (2, 12, 1));
        assert_eq!(unpacked.to_string(), "2 of 3 identical to the book (12 B), 1 error");
        assert!(ReadBack(Err("corrupt".into())).to_string().contains("corrupt"));
    }
}
