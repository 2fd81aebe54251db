//! Fuzzes `Mdm-Signature` verification: arbitrary bytes as the header and the body.
//!
//! Input layout: a mode byte, the header's length (two bytes, big-endian), the header, then the
//! body. Mode bit 0 clear: the header bytes are passed as they are (base64 and size handling).
//! Set: they are base64-encoded first, so mutations land on the BER/CMS/X.509 structure itself,
//! which is where the parsers are. The seeds (seeds/signature) are valid signatures under
//! seeds/ca.pem, so mutations of the certificates and attributes reach the chain checks too.
//!
//! Checked besides "no panic, no hang": `inspect` reaches the same verdict as `verify`, and the
//! BER normaliser keeps its promises (DER out is a fixed point; under 64 KiB it never grows).
//!
//! Run: `cd mdm-core && cargo +nightly fuzz run signature fuzz/corpus/signature fuzz/seeds/signature`

#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use mdm_pki::signature::{ber_to_der, inspect, SignatureVerifier};
use mdm_pki::TrustAnchors;

/// The CA the seeds were issued by (seeds/make-seeds.sh).
const CA_PEM: &[u8] = include_bytes!("../seeds/ca.pem");
/// The time of verification: inside the seed certificates' ten years (2027-12-28).
const NOW: i64 = 1_830_000_000;

fn verifier() -> &'static SignatureVerifier {
    static VERIFIER: OnceLock<SignatureVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let anchors =
            TrustAnchors::from_pem(CA_PEM, Duration::from_secs(300)).expect("seeds/ca.pem");
        SignatureVerifier::new(anchors)
    })
}

fuzz_target!(|data: &[u8]| {
    let [mode, high, low, rest @ ..] = data else {
        return;
    };
    let split = usize::from(u16::from_be_bytes([*high, *low])).min(rest.len());
    let (raw, body) = rest.split_at(split);
    let header = if mode & 1 == 0 {
        raw.to_vec()
    } else {
        base64::engine::general_purpose::STANDARD
            .encode(raw)
            .into_bytes()
    };

    let verdict = verifier().verify(&header, body, NOW);
    let inspection = inspect(&header, body, Some(verifier()), NOW);
    assert_eq!(inspection.verdict, verdict.as_ref().map(|_| ()).map_err(Clone::clone));
    if let Ok(signer) = &verdict {
        assert_eq!(inspection.sha256, Some(signer.sha256));
    }
    let _ = inspect(&header, body, None, NOW);

    if let Ok(der) = ber_to_der(raw) {
        assert!(der.len() <= raw.len(), "the normaliser grew {} bytes to {}", raw.len(), der.len());
        assert_eq!(ber_to_der(&der).as_ref(), Ok(&der), "DER is not a fixed point");
    }
});
