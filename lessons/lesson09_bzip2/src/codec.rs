//! bzip2 around the concept: multi-stream files read whole or only in part, what is wrong
//! with bytes that do not decompress (in words), fingerprints to compare outputs by, and
//! damage made on purpose.

use std::io::{ErrorKind, Read};

/// Every stream of a multi-stream file, one after the other (what `bzip2 -d` and pbzip2's
/// readers do), refusing to produce more than `limit` bytes.
pub fn decompress_all_streams(compressed: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let mut output = Vec::new();
    bzip2::read::MultiBzDecoder::new(compressed)
        .take(limit + 1)
        .read_to_end(&mut output)
        .map_err(|error| describe(&error))?;
    if output.len() as u64 > limit {
        return Err(format!(
            "it decompresses to more than {}",
            course::timing::format::bytes(limit)
        ));
    }
    Ok(output)
}

/// Only the first stream, as a decoder that does not know about multi-stream files reads them.
pub fn decompress_first_stream(compressed: &[u8]) -> Result<Vec<u8>, String> {
    crate::parallel_bzip2::decompress(compressed)
}

/// What went wrong, in words a student can act on.
pub fn describe(error: &std::io::Error) -> String {
    if error.kind() == ErrorKind::UnexpectedEof {
        return "truncated: the data ends before the stream's end marker".to_string();
    }
    match error.get_ref().and_then(|inner| inner.downcast_ref::<bzip2::Error>()) {
        Some(bzip2::Error::DataMagic) => "not bzip2 data: it does not start with 'BZh'".to_string(),
        Some(bzip2::Error::Data) => "corrupt: a block's contents or checksum are wrong".to_string(),
        Some(other) => format!("bzip2 refused it ({other})"),
        None => format!("it could not be decompressed ({error})"),
    }
}

/// A short, order-sensitive fingerprint of some bytes (FNV-1a, 64 bits): cheap to compare
/// and to print, so that "the same output" can be checked and shown in one line.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// `compressed` with its length cut to `keep` bytes: a download that stopped early.
pub fn truncated(compressed: &[u8], keep: usize) -> Vec<u8> {
    compressed[..keep.min(compressed.len())].to_vec()
}

/// `compressed` with a few bits flipped in the middle: a disk or network error.
pub fn corrupted(compressed: &[u8]) -> Vec<u8> {
    let mut bytes = compressed.to_vec();
    let middle = bytes.len() / 2;
    for byte in bytes.iter_mut().skip(middle).take(4) {
        *byte ^= 0x5a;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel_bzip2::{compress, decompress};

    #[test]
    fn compression_is_lossless() {
        let text = workloads::text::generate(3, 100_000);
        let compressed = compress(text.as_bytes(), 9);
        assert!(compressed.len() < text.len() / 2);
        assert_eq!(decompress(&compressed).unwrap(), text.as_bytes());
        assert_eq!(decompress_all_streams(&compressed, 1 << 20).unwrap(), text.as_bytes());
    }

    #[test]
    fn damaged_input_is_an_error_naming_the_damage() {
        let text = workloads::text::generate(4, 50_000);
        let compressed = compress(text.as_bytes(), 9);
        let cut = decompress(&truncated(&compressed, compressed.len() / 2)).unwrap_err();
        assert!(cut.contains("truncated"), "{cut}");
        let flipped = decompress(&corrupted(&compressed)).unwrap_err();
        assert!(flipped.contains("corrupt"), "{flipped}");
        let plain = decompress(text.as_bytes()).unwrap_err();
        assert!(plain.contains("not bzip2"), "{plain}");
        assert!(decompress(&[]).unwrap_err().contains("truncated"));
        let too_big = decompress_all_streams(&compressed, 1000).unwrap_err();
        assert!(too_big.contains("more than"), "{too_big}");
    }

    #[test]
    fn fingerprints_differ_when_bytes_do() {
        assert_eq!(fingerprint(b"abc"), fingerprint(b"abc"));
        assert_ne!(fingerprint(b"abc"), fingerprint(b"acb"));
        assert_ne!(fingerprint(b""), fingerprint(b"\0"));
    }
}
