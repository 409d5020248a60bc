//! How values cross a pipe: turned into bytes on one side, rebuilt from bytes on the other.
//!
//! This is what Python's `pickle` does for `multiprocessing`, reduced to what the course needs:
//! fixed-width little-endian numbers, length-prefixed strings and byte vectors, and the
//! containers built from them. Every value a process pool sends is *copied* twice (into the
//! encoding, then through the kernel's pipe buffer) and rebuilt once: that is the cost threads
//! sharing memory never pay.
//!
//! Why by hand, and not serde with a binary format crate (bincode): serde describes a
//! `Vec<u8>` as a *sequence* of `u8` and visits it one byte at a time (Rust has no
//! specialization to tell it that a slice of bytes can be copied whole; a type must opt in with
//! `serde_bytes`). Measured on this course's 2-core machine, a 20 MB `Result<Vec<u8>, String>`
//! took 22 ms to encode and 22 ms to decode through serde and bincode (1.3 and 2.0 alike),
//! against 2.4 ms and 8.3 ms here, where [`Wire::encode_slice`] and [`Wire::decode_vec`] copy
//! bytes in bulk; lesson 09's encode-and-decode step (`--quick`) went from 0.04 ms to about
//! 2 ms. `pickle` copies a `bytes` object whole, so this format is the honest analogue:
//! encoding is a copy, and what a process pool really pays for is the pipe.

use std::time::Duration;

/// A value that can be sent to another process as bytes and rebuilt there.
///
/// ```
/// use procpool::Wire;
/// let mut bytes = Vec::new();
/// (7u64, String::from("seven")).encode(&mut bytes);
/// let mut input = &bytes[..];
/// assert_eq!(<(u64, String)>::decode(&mut input).unwrap(), (7, "seven".to_string()));
/// assert!(input.is_empty());
/// ```
pub trait Wire: Sized {
    /// Appends the bytes of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Rebuilds a value from the front of `input` and advances `input` past it.
    fn decode(input: &mut &[u8]) -> Result<Self, WireError>;

    /// Appends a slice of values (a vector's contents). Bytes override this to copy in bulk.
    fn encode_slice(items: &[Self], out: &mut Vec<u8>) {
        for item in items {
            item.encode(out);
        }
    }

    /// Rebuilds `len` values (a vector's contents). Bytes override this to copy in bulk.
    fn decode_vec(len: usize, input: &mut &[u8]) -> Result<Vec<Self>, WireError> {
        // A corrupt length must not allocate gigabytes: every value takes at least one byte,
        // except zero-sized ones, so the remaining input bounds a sane capacity.
        let mut items = Vec::with_capacity(len.min(input.len()));
        for _ in 0..len {
            items.push(Self::decode(input)?);
        }
        Ok(items)
    }
}

/// Something that encodes exactly as a `T` would: lets a pool of `String` workers be fed
/// `&str` items, or a pool of `Vec<u8>` workers `&[u8]`, without copying them first.
pub trait EncodeAs<T: Wire> {
    fn encode_as(&self, out: &mut Vec<u8>);
}

impl<T: Wire> EncodeAs<T> for T {
    fn encode_as(&self, out: &mut Vec<u8>) {
        self.encode(out);
    }
}

impl<T: Wire> EncodeAs<T> for &T {
    fn encode_as(&self, out: &mut Vec<u8>) {
        (*self).encode(out);
    }
}

impl EncodeAs<String> for &str {
    fn encode_as(&self, out: &mut Vec<u8>) {
        encode_len(self.len(), out);
        out.extend_from_slice(self.as_bytes());
    }
}

impl<T: Wire> EncodeAs<Vec<T>> for &[T] {
    fn encode_as(&self, out: &mut Vec<u8>) {
        encode_len(self.len(), out);
        T::encode_slice(self, out);
    }
}

/// The bytes did not hold what the receiver expected: a truncated or corrupt message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError(pub String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed message: {}", self.0)
    }
}

impl std::error::Error for WireError {}

/// Takes `n` bytes from the front of `input`.
pub fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], WireError> {
    if input.len() < n {
        return Err(WireError(format!("needed {n} more bytes, {} left", input.len())));
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

fn encode_len(len: usize, out: &mut Vec<u8>) {
    (len as u64).encode(out);
}

fn decode_len(input: &mut &[u8]) -> Result<usize, WireError> {
    let len = u64::decode(input)?;
    usize::try_from(len).map_err(|_| WireError(format!("length {len} does not fit this machine")))
}

macro_rules! fixed_width {
    ($($number:ty),*) => {$(
        impl Wire for $number {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
                let bytes = take(input, std::mem::size_of::<$number>())?;
                let mut array = [0u8; std::mem::size_of::<$number>()];
                array.copy_from_slice(bytes);
                Ok(<$number>::from_le_bytes(array))
            }
        }
    )*};
}

fixed_width!(u16, u32, u64, i32, i64, f64);

impl Wire for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        Ok(take(input, 1)?[0])
    }
    fn encode_slice(items: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(items);
    }
    fn decode_vec(len: usize, input: &mut &[u8]) -> Result<Vec<u8>, WireError> {
        Ok(take(input, len)?.to_vec())
    }
}

/// Sent as 64 bits, so that both ends agree whatever their pointer width.
impl Wire for usize {
    fn encode(&self, out: &mut Vec<u8>) {
        (*self as u64).encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        decode_len(input)
    }
}

impl Wire for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        match u8::decode(input)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(WireError(format!("{other} is not a bool"))),
        }
    }
}

impl Wire for () {
    fn encode(&self, _: &mut Vec<u8>) {}
    fn decode(_: &mut &[u8]) -> Result<Self, WireError> {
        Ok(())
    }
}

impl Wire for String {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_str().encode_as(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        let len = decode_len(input)?;
        let bytes = take(input, len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| WireError("a string that is not UTF-8".into()))
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_slice().encode_as(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        let len = decode_len(input)?;
        T::decode_vec(len, input)
    }
}

impl<T: Wire> Wire for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                value.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        match u8::decode(input)? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(input)?)),
            other => Err(WireError(format!("{other} is not an Option tag"))),
        }
    }
}

impl<T: Wire, E: Wire> Wire for Result<T, E> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Ok(value) => {
                out.push(0);
                value.encode(out);
            }
            Err(error) => {
                out.push(1);
                error.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        match u8::decode(input)? {
            0 => Ok(Ok(T::decode(input)?)),
            1 => Ok(Err(E::decode(input)?)),
            other => Err(WireError(format!("{other} is not a Result tag"))),
        }
    }
}

impl<A: Wire, B: Wire> Wire for (A, B) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        Ok((A::decode(input)?, B::decode(input)?))
    }
}

impl<A: Wire, B: Wire, C: Wire> Wire for (A, B, C) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
        self.2.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        Ok((A::decode(input)?, B::decode(input)?, C::decode(input)?))
    }
}

/// Whole nanoseconds.
impl Wire for Duration {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.as_nanos().min(u128::from(u64::MAX)) as u64).encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        Ok(Duration::from_nanos(u64::decode(input)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Wire + PartialEq + std::fmt::Debug>(value: T) {
        let mut bytes = Vec::new();
        value.encode(&mut bytes);
        let mut input = &bytes[..];
        assert_eq!(T::decode(&mut input).unwrap(), value);
        assert!(input.is_empty(), "{} bytes left over", input.len());
    }

    #[test]
    fn values_survive_the_round_trip() {
        round_trip(0u8);
        round_trip(u64::MAX);
        round_trip(-5i64);
        round_trip(usize::MAX);
        round_trip(2.5f64);
        round_trip(true);
        round_trip(String::from("naïve café"));
        round_trip(vec![1u8, 2, 3]);
        round_trip(vec![String::from("a"), String::new()]);
        round_trip(Some(vec![7u32]));
        round_trip(None::<u64>);
        round_trip(Ok::<Vec<u8>, String>(vec![9; 1000]));
        round_trip(Err::<Vec<u8>, String>("bad".into()));
        round_trip((1u64, String::from("x"), Duration::from_nanos(123)));
    }

    #[test]
    fn borrowed_items_encode_as_their_owned_form() {
        let mut from_str = Vec::new();
        "hello".encode_as(&mut from_str);
        let mut from_string = Vec::new();
        String::from("hello").encode(&mut from_string);
        assert_eq!(from_str, from_string);
        let mut from_slice = Vec::new();
        EncodeAs::<Vec<u8>>::encode_as(&&b"bytes"[..], &mut from_slice);
        let mut from_vec = Vec::new();
        b"bytes".to_vec().encode(&mut from_vec);
        assert_eq!(from_slice, from_vec);
    }

    #[test]
    fn truncated_and_corrupt_input_is_an_error_not_a_panic() {
        let mut bytes = Vec::new();
        String::from("truncated").encode(&mut bytes);
        for cut in 0..bytes.len() {
            let mut input = &bytes[..cut];
            assert!(String::decode(&mut input).is_err(), "cut at {cut}");
        }
        // A length claiming far more than is there.
        let mut huge = Vec::new();
        u64::MAX.encode(&mut huge);
        assert!(Vec::<u64>::decode(&mut &huge[..]).is_err());
        assert!(bool::decode(&mut &[7u8][..]).is_err());
        let mut not_utf8 = Vec::new();
        vec![0xffu8, 0xfe].encode(&mut not_utf8);
        assert!(String::decode(&mut &not_utf8[..]).is_err());
    }
}
