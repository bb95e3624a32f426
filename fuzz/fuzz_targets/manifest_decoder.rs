//! Feeds arbitrary bytes to the manifest decoder: it must return an error or
//! objects, never panic, hang or blow up memory. Objects it accepts must
//! survive a JSON round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rk_proto::manifest::{decode_manifests, DecodeOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for validate in [true, false] {
        let Ok(decoded) = decode_manifests(text, DecodeOptions { validate }) else { continue };
        for object in decoded.objects {
            let json = rk_proto::with_object!(&object, o => serde_json::to_string(o).expect("objects serialize"));
            let again = decode_manifests(&json, DecodeOptions { validate: true }).expect("our own output decodes");
            assert_eq!(again.objects, vec![object]);
        }
    }
});
