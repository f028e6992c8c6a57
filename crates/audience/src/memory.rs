//! Large buffers for the columnar passes, backed by transparent huge pages where the kernel
//! offers them. A rebuild fills about a gigabyte of fresh memory; at 4 KiB a page its page
//! faults took a fifth of the rebuild's time, and the scattered writes miss the TLB.

/// `len` copies of `value` in a vector whose pages the kernel is asked to back with huge pages
/// before the first one is touched (Linux `madvise(MADV_HUGEPAGE)`; elsewhere a plain vector).
pub(crate) fn filled<T: Clone>(len: usize, value: T) -> Vec<T> {
    let mut buffer = reserved(len);
    buffer.resize(len, value);
    buffer
}

/// An empty vector with room for `len` values, its pages asked for like [`filled`]'s, for
/// callers that write the values themselves (several threads, each its own share).
pub(crate) fn reserved<T>(len: usize) -> Vec<T> {
    let mut buffer: Vec<T> = Vec::with_capacity(len);
    advise_huge_pages(buffer.as_mut_ptr().cast::<u8>(), len.saturating_mul(size_of::<T>()));
    buffer
}

/// `len` zero words, asked for huge pages like [`filled`], without writing the zeros: a large
/// zeroed allocation comes from fresh pages the kernel zeroes on first touch, so writing zeros
/// again would only double the cost.
pub(crate) fn zeroed_words(len: usize) -> Vec<u64> {
    let mut buffer = vec![0u64; len];
    advise_huge_pages(buffer.as_mut_ptr().cast::<u8>(), len.saturating_mul(size_of::<u64>()));
    buffer
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(start: *mut u8, bytes: usize) {
    const PAGE: usize = 4096;
    /// Below two huge pages there is nothing to gain.
    const WORTH_IT: usize = 4 << 20;
    if bytes < WORTH_IT {
        return;
    }
    let first = (start as usize).next_multiple_of(PAGE);
    let end = (start as usize + bytes) & !(PAGE - 1);
    // SAFETY: madvise only hints at how to back pages of this process's own allocation (the
    // range lies inside it and is page-aligned); it never changes their contents or validity.
    // A refusal (no THP support) changes nothing, so its result is deliberately ignored.
    let _ = unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: *mut u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    #[test]
    fn filled_holds_the_value_everywhere() {
        for len in [0, 1, 4097, (8 << 20) + 3] {
            let buffer = super::filled(len, 7u16);
            assert_eq!(buffer.len(), len);
            assert!(buffer.iter().all(|&v| v == 7));
            let words = super::zeroed_words(len);
            assert_eq!(words.len(), len);
            assert!(words.iter().all(|&v| v == 0));
        }
    }
}
