//! Telling a statically linked program from one that needs a dynamic loader,
//! which a `FROM scratch` image does not have.

/// ELF program header type of the loader's path.
const PT_INTERP: u32 = 3;

/// Whether `data` is a 64-bit little-endian ELF program without a loader
/// (static or static-pie).
pub(super) fn is_statically_linked(data: &[u8]) -> bool {
    let u16_at = |at: usize| data.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |at: usize| data.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let u64_at =
        |at: usize| data.get(at..at + 8).and_then(|b| usize::try_from(u64::from_le_bytes(b.try_into().ok()?)).ok());
    // Magic, 64-bit class, little endian.
    if data.get(..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]) {
        return false;
    }
    let (Some(offset), Some(size), Some(count)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        return false;
    };
    (0..count).all(|index| u32_at(offset + index * size).is_some_and(|kind| kind != PT_INTERP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamically_linked_program_is_told_apart() {
        let shell = std::fs::read("/bin/sh").expect("reading /bin/sh");
        assert!(!is_statically_linked(&shell), "Debian's /bin/sh needs the dynamic loader");
        assert!(!is_statically_linked(b"#!/bin/sh\necho not a program\n"));
        assert!(!is_statically_linked(&[]));
    }
}
