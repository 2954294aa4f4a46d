//! Compressed data files (`.gz`, `.zst`), read as the stream of their inner bytes.
//!
//! Invariant: no more than the cap of decompressed bytes is ever produced; a file that expands
//! further (a zip bomb) fails its read with an error saying so, after reading at most the cap.

use std::io::{self, Read};

use super::Compression;

/// The decompressed bytes of `input`, failing the read once they pass `cap`.
pub fn decompress<'a>(
    compression: Compression,
    input: &'a mut (dyn Read + Send),
    cap: u64,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    let inner: Box<dyn Read + Send + 'a> = match compression {
        Compression::None => return Ok(Box::new(input)),
        // Multi-member: `cat a.gz b.gz` and parallel gzip tools write several members.
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        #[cfg(feature = "zstd")]
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(input)?),
        #[cfg(not(feature = "zstd"))]
        Compression::Zstd => {
            return Err(io::Error::other(
                "this build reads no zstd (it was built without the zstd feature)",
            ));
        }
    };
    Ok(Box::new(Capped {
        inner,
        left: cap,
        cap,
    }))
}

/// Reads through to `inner` until `cap` bytes have come, then fails.
pub struct Capped<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R> Capped<R> {
    pub fn new(inner: R, cap: u64) -> Capped<R> {
        Capped {
            inner,
            left: cap,
            cap,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // One byte more than is left tells the end of the stream from a stream over the cap.
        let room = usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX);
        let wanted = buf.len().min(room);
        let read = self.inner.read(&mut buf[..wanted])?;
        if read as u64 > self.left {
            return Err(too_large(self.cap));
        }
        self.left -= read as u64;
        Ok(read)
    }
}

/// The error of a file that expands past the cap.
pub fn too_large(cap: u64) -> io::Error {
    io::Error::other(format!(
        "it expands to more than {cap} bytes (--max-decompressed-bytes)"
    ))
}

// The tests pack their streams with zstd too.
#[cfg(all(test, feature = "zstd"))]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn read_all(compression: Compression, packed: &[u8], cap: u64) -> io::Result<Vec<u8>> {
        let mut input = packed;
        let mut out = Vec::new();
        decompress(compression, &mut input, cap)?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn gzip_and_zstd_streams_are_read_whole() {
        let text = b"a,b\n1,2\n".repeat(1000);
        assert_eq!(
            read_all(Compression::Gzip, &gzip(&text), 1 << 20).unwrap(),
            text
        );
        let two_members = [gzip(b"a\n"), gzip(b"1\n")].concat();
        assert_eq!(
            read_all(Compression::Gzip, &two_members, 100).unwrap(),
            b"a\n1\n"
        );
        let zstd = zstd::encode_all(&text[..], 3).unwrap();
        assert_eq!(
            read_all(Compression::Zstd, &zstd, text.len() as u64).unwrap(),
            text
        );
    }

    #[test]
    fn a_stream_past_the_cap_fails_after_reading_the_cap() {
        // 32 MiB of zeros packs into a few KB: a small bomb.
        let bomb = zstd::encode_all(io::repeat(0).take(32 << 20), 3).unwrap();
        assert!(bomb.len() < 64 << 10, "{}", bomb.len());
        let err = read_all(Compression::Zstd, &bomb, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("more than 1048576 bytes"), "{err}");
        let exact = read_all(Compression::Gzip, &gzip(&[7; 1000]), 1000).unwrap();
        assert_eq!(exact.len(), 1000, "exactly the cap is allowed");
        assert!(read_all(Compression::Gzip, &gzip(&[7; 1001]), 1000).is_err());
        assert!(read_all(Compression::Gzip, b"not gzip at all", 1000).is_err());
    }
}
