use super::*;

fn der(ber: &[u8]) -> Vec<u8> {
    ber_to_der(ber).unwrap_or_else(|e| panic!("{ber:02x?}: {e}"))
}

fn malformed_reason(ber: &[u8]) -> &'static str {
    match ber_to_der(ber) {
        Err(SignatureError::MalformedBer { reason, .. }) => reason,
        other => panic!("{ber:02x?}: expected MalformedBer, got {other:?}"),
    }
}

#[test]
fn der_passes_through_unchanged() {
    // SEQUENCE { INTEGER 5, SET { OCTET STRING "ab", [0] { NULL } }, [31] ff }
    let input = [
        0x30, 0x11, 0x02, 0x01, 0x05, 0x31, 0x08, 0x04, 0x02, b'a', b'b', 0xa0, 0x02, 0x05, 0x00,
        0x9f, 0x1f, 0x01, 0xff,
    ];
    assert_eq!(der(&input), input);
}

#[test]
fn indefinite_lengths_become_definite() {
    // SEQUENCE(indef) { INTEGER 1, SEQUENCE(indef) { NULL } }
    let ber = [
        0x30, 0x80, 0x02, 0x01, 0x01, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    assert_eq!(
        der(&ber),
        [0x30, 0x07, 0x02, 0x01, 0x01, 0x30, 0x02, 0x05, 0x00]
    );
}

#[test]
fn non_minimal_lengths_become_minimal() {
    let ber = [0x04, 0x84, 0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb];
    assert_eq!(der(&ber), [0x04, 0x02, 0xaa, 0xbb]);
    let ber = [0x30, 0x81, 0x04, 0x04, 0x81, 0x01, 0xcc];
    assert_eq!(der(&ber), [0x30, 0x03, 0x04, 0x01, 0xcc]);
}

#[test]
fn long_contents_get_long_form_lengths() {
    for len in [127, 128, 255, 256, 65_535, 65_536] {
        let mut ber = vec![0x30, 0x80, 0x04, 0x83];
        ber.extend(&(len as u32).to_be_bytes()[1..]);
        ber.extend(vec![7; len]);
        ber.extend([0, 0]);
        let out = der(&ber);
        let inner = [vec![0x04], length_bytes(len), vec![7; len]].concat();
        let expected = [vec![0x30], length_bytes(inner.len()), inner].concat();
        assert_eq!(out, expected, "contents of {len} bytes");
        assert_eq!(der(&out), out, "DER is a fixed point");
    }
}

fn length_bytes(len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    write_length(&mut out, len);
    out
}

#[test]
fn chunked_octet_strings_become_one_string() {
    // OCTET STRING(constructed, indef) { "ab", OCTET STRING(constructed) { "c", "" }, "de" }
    let ber = [
        0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x24, 0x05, 0x04, 0x01, b'c', 0x04, 0x00, 0x04, 0x02,
        b'd', b'e', 0x00, 0x00,
    ];
    assert_eq!(der(&ber), [0x04, 0x05, b'a', b'b', b'c', b'd', b'e']);
    // Inside a SEQUENCE, whose length follows the shorter string.
    let ber = [&[0x30, 0x80][..], &ber, &[0x00, 0x00]].concat();
    assert_eq!(
        der(&ber),
        [0x30, 0x07, 0x04, 0x05, b'a', b'b', b'c', b'd', b'e']
    );
}

#[test]
fn set_order_and_tags_are_kept() {
    // An unsorted SET stays unsorted: signatures cover it as sent.
    let ber = [0x31, 0x80, 0x02, 0x01, 0x09, 0x02, 0x01, 0x01, 0x00, 0x00];
    assert_eq!(der(&ber), [0x31, 0x06, 0x02, 0x01, 0x09, 0x02, 0x01, 0x01]);
    // A high tag number, constructed, indefinite.
    let ber = [0xbf, 0x81, 0x00, 0x80, 0x05, 0x00, 0x00, 0x00];
    assert_eq!(der(&ber), [0xbf, 0x81, 0x00, 0x02, 0x05, 0x00]);
}

#[test]
fn nesting_is_limited_to_64_levels() {
    let nested = |levels: usize| [[0x30, 0x80].repeat(levels), vec![0; 2 * levels]].concat();
    let out = der(&nested(MAX_BER_DEPTH));
    assert_eq!(out.len(), 2 * MAX_BER_DEPTH);
    assert_eq!(
        ber_to_der(&nested(MAX_BER_DEPTH + 1)),
        Err(SignatureError::BerTooDeep { limit: 64 })
    );
    // A deeper claim is refused on its way down, before the (missing) rest is read.
    assert_eq!(
        ber_to_der(&[0x30, 0x80].repeat(100_000)),
        Err(SignatureError::BerTooDeep { limit: 64 })
    );
}

#[test]
fn malformed_input_is_refused() {
    let cases: [(&[u8], &str); 12] = [
        (&[], "the input ends where an element should start"),
        (&[0x30], "the input ends before a length"),
        (
            &[0x04, 0x03, 0x01],
            "a length runs past the end of its container",
        ),
        (
            &[0x04, 0x01, 0x01, 0x00],
            "bytes follow the outermost element",
        ),
        (
            &[0x04, 0x80, 0x00, 0x00],
            "a primitive element has an indefinite length",
        ),
        (
            &[0x30, 0x80, 0x05, 0x00],
            "an indefinite-length element has no end-of-contents",
        ),
        (
            &[0x30, 0x02, 0x00, 0x00],
            "misplaced end-of-contents (tag 0)",
        ),
        (&[0x04, 0xff], "reserved length octet 0xff"),
        (
            &[0x04, 0x85, 0, 0, 0, 0, 1, 0],
            "a length is longer than four bytes",
        ),
        (
            &[0x24, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00],
            "a chunked OCTET STRING holds something else",
        ),
        (&[0x1f, 0x05, 0x00], "a tag number is not minimally encoded"),
        (&[0x1f, 0x81], "the input ends inside a tag"),
    ];
    for (input, reason) in cases {
        assert_eq!(malformed_reason(input), reason, "{input:02x?}");
    }
    // A child may not run past its definite-length parent.
    let reason = malformed_reason(&[0x30, 0x02, 0x04, 0x02, 0xaa, 0xbb]);
    assert_eq!(reason, "a length runs past the end of its container");
}

#[test]
fn output_grows_only_for_indefinite_elements_of_64_kib() {
    // Under 64 KiB the output never exceeds the input...
    let small = [
        vec![0x30, 0x80, 0x04, 0x82, 0xff, 0xf0],
        vec![1; 0xfff0],
        vec![0, 0],
    ]
    .concat();
    assert!(der(&small).len() <= small.len());
    // ...and past it, an indefinite element grows by one byte.
    let big = [
        vec![0x30, 0x80, 0x04, 0x83, 0x01, 0x00, 0x00],
        vec![1; 0x10000],
        vec![0, 0],
    ];
    let big = big.concat();
    assert_eq!(der(&big).len(), big.len() + 1);
}

#[test]
fn sets_are_limited_to_32_elements_and_sequences_are_not() {
    let with_elements = |tag: u8, count: usize| {
        let content: Vec<u8> = (0..count).flat_map(|i| [0x02, 0x01, i as u8]).collect();
        [
            vec![tag, 0x82],
            (content.len() as u16).to_be_bytes().to_vec(),
            content,
        ]
        .concat()
    };
    let too_many = Err(SignatureError::SetTooLarge { limit: 32 });
    assert!(ber_to_der(&with_elements(0x31, MAX_SET_ELEMENTS)).is_ok());
    assert_eq!(
        ber_to_der(&with_elements(0x31, MAX_SET_ELEMENTS + 1)),
        too_many
    );
    // Tagged SETs: a SignedData's certificate set, a SignerInfo's signed attributes.
    assert_eq!(
        ber_to_der(&with_elements(0xa0, MAX_SET_ELEMENTS + 1)),
        too_many
    );
    assert!(ber_to_der(&with_elements(0x30, 1000)).is_ok());
    // Chunks of one string are not elements of a SET either.
    let chunks: Vec<u8> = (0..1000).flat_map(|i| [0x04, 0x01, i as u8]).collect();
    let chunked = [vec![0x24, 0x80], chunks, vec![0, 0]].concat();
    assert_eq!(der(&chunked).len(), 4 + 1000);
}
