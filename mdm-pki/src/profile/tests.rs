//! Profiles built, signed, encrypted and read back; a device answer verified against a device
//! CA whose intermediate has expired.

use super::chain::{self, DeviceCaBundle};
use super::payload::{MdmPayload, ScepPayload, ALL_ACCESS_RIGHTS, SERVER_CAPABILITIES};
use super::service::{DeviceAnswer, ProfileService};
use super::*;
use crate::pki;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::BasicConstraints;
use openssl::x509::{X509NameRef, X509};

fn key() -> PKey<Private> {
    pki::rsa_key(2048).expect("key")
}

fn enrollment_profile(root_der: &[u8]) -> Profile {
    let scep = ScepPayload::new(
        "com.example.mdm.scep",
        "https://mdm.example.com/scep",
        "challenge-1",
        vec![
            ("O".into(), "Example".into()),
            ("CN".into(), "UDID-1".into()),
        ],
    );
    let mdm = MdmPayload {
        identifier: "com.example.mdm.mdm".into(),
        server_url: "https://mdm.example.com/mdm".into(),
        check_in_url: Some("https://mdm.example.com/checkin".into()),
        topic: "com.apple.mgmt.External.test".into(),
        identity_certificate_uuid: scep.uuid.clone(),
        sign_message: true,
        check_out_when_removed: true,
        access_rights: ALL_ACCESS_RIGHTS,
        server_capabilities: SERVER_CAPABILITIES.iter().map(|s| s.to_string()).collect(),
    };
    let mut profile = Profile::new("com.example.mdm", "Enrollment");
    profile.payloads = vec![
        payload::root_certificate(root_der, "com.example.mdm.root", "Root"),
        scep.to_dictionary(),
        mdm.to_dictionary(),
    ];
    profile
}

#[test]
fn a_signed_profile_opens_and_its_payloads_reference_each_other() {
    let ca_key = key();
    let ca = pki::self_signed_ca(&ca_key, &pki::name("Root", None).expect("n"), 10).expect("ca");
    let xml = enrollment_profile(&ca.to_der().expect("der"))
        .to_xml()
        .expect("xml");
    let signed = signing::sign(&xml, &ca, &ca_key, &[]).expect("sign");
    let opened = signing::open(&signed).expect("opens");
    assert_eq!(opened.content, xml);
    assert_eq!(opened.signer.to_der().ok(), ca.to_der().ok());
    let dict = read_dictionary(&opened.content).expect("plist");
    assert_eq!(
        dict.get("PayloadRemovalDisallowed"),
        Some(&Value::Boolean(false))
    );
    let payloads = dict["PayloadContent"].as_array().expect("array");
    let scep = payloads[1].as_dictionary().expect("scep");
    let mdm = payloads[2].as_dictionary().expect("mdm");
    assert_eq!(
        scep["PayloadType"].as_string(),
        Some("com.apple.security.scep")
    );
    assert_eq!(mdm["IdentityCertificateUUID"], scep["PayloadUUID"]);
    assert_eq!(mdm["AccessRights"].as_unsigned_integer(), Some(8191));
    let content = scep["PayloadContent"].as_dictionary().expect("content");
    assert_eq!(content["Keysize"].as_unsigned_integer(), Some(2048));
    assert_eq!(content["Challenge"].as_string(), Some("challenge-1"));
    // A tampered signature is refused.
    let mut broken = signed.clone();
    let at = broken.len() - 5;
    broken[at] ^= 1;
    assert!(signing::open(&broken).is_err());
}

#[test]
fn encrypted_payloads_open_only_with_the_identity_key() {
    let identity_key = key();
    let identity =
        pki::self_signed_signer(&identity_key, &pki::name("UDID-1", None).expect("n")).expect("c");
    let profile = enrollment_profile(b"not really a certificate");
    let xml = profile.to_encrypted_xml(&identity).expect("encrypt");
    let dict = read_dictionary(&xml).expect("plist");
    assert!(dict.get("PayloadContent").is_none());
    assert!(dict.get("EncryptedPayloadContent").is_some());
    let opened =
        encryption::decrypt_profile(dict.clone(), &identity, &identity_key).expect("decrypts");
    assert_eq!(opened["PayloadContent"].as_array().map(Vec::len), Some(3));
    let stranger = key();
    assert!(encryption::decrypt_profile(dict, &identity, &stranger).is_err());
}

#[test]
fn the_profile_service_payload_asks_for_the_attributes() {
    let xml = ProfileService {
        identifier: "com.example.mdm.ota".into(),
        display_name: "Enroll".into(),
        organization: Some("Example".into()),
        url: "https://mdm.example.com/enroll".into(),
        challenge: "c-1".into(),
    }
    .to_xml()
    .expect("xml");
    let dict = read_dictionary(&xml).expect("plist");
    assert_eq!(dict["PayloadType"].as_string(), Some("Profile Service"));
    let content = dict["PayloadContent"].as_dictionary().expect("content");
    assert_eq!(
        content["DeviceAttributes"].as_array().map(Vec::len),
        Some(7)
    );
    assert_eq!(content["Challenge"].as_string(), Some("c-1"));
}

/// A CA certificate for `subject` signed by `issuer_key`, valid from `from` to `to` days
/// relative to now (negative = in the past).
fn ca_cert(
    subject: &X509NameRef,
    issuer: &X509NameRef,
    key: &PKey<Private>,
    issuer_key: &PKey<Private>,
    from: i64,
    to: i64,
) -> X509 {
    let now = service_now();
    let mut b = X509::builder().expect("b");
    b.set_version(2).expect("v");
    b.set_serial_number(&pki::random_serial().expect("s"))
        .expect("s");
    b.set_subject_name(subject).expect("s");
    b.set_issuer_name(issuer).expect("i");
    b.set_pubkey(key).expect("k");
    b.set_not_before(&Asn1Time::from_unix(now + from * 86_400).expect("t"))
        .expect("t");
    b.set_not_after(&Asn1Time::from_unix(now + to * 86_400).expect("t"))
        .expect("t");
    b.append_extension(BasicConstraints::new().critical().ca().build().expect("bc"))
        .expect("ext");
    b.sign(issuer_key, MessageDigest::sha256()).expect("sign");
    b.build()
}

fn service_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[test]
fn device_certificates_chain_through_expired_intermediates_only() {
    let (root_key, mid_key, leaf_key) = (key(), key(), key());
    let root_name = pki::name("Test Apple Root CA", None).expect("n");
    let mid_name = pki::name("Test iPhone Device CA", None).expect("n");
    let root = ca_cert(&root_name, &root_name, &root_key, &root_key, -1, 3650);
    // Expired, like Apple iPhone Device CA (2014).
    let mid = ca_cert(&mid_name, &root_name, &mid_key, &root_key, -4000, -3000);
    let leaf = ca_cert(
        &pki::name("device", None).expect("n"),
        &mid_name,
        &leaf_key,
        &mid_key,
        -1,
        365,
    );
    let mut pem = root.to_pem().expect("pem");
    pem.extend(mid.to_pem().expect("pem"));
    let bundle = DeviceCaBundle::from_pem(&pem).expect("bundle");
    bundle
        .verify(&leaf, &[], service_now())
        .expect("expired intermediate is exempt");
    // The same expired intermediate supplied by the device, not the bundle, is not exempt.
    let root_only = DeviceCaBundle::from_pem(&root.to_pem().expect("pem")).expect("bundle");
    assert!(root_only
        .verify(&leaf, std::slice::from_ref(&mid), service_now())
        .is_err());
    // An expired leaf is refused; so is a stranger.
    assert!(bundle
        .verify(&leaf, &[], service_now() + 400 * 86_400)
        .is_err());
    let stranger = pki::self_signed_ca(&leaf_key, &pki::name("x", None).expect("n"), 1).expect("c");
    assert!(bundle.verify(&stranger, &[], service_now()).is_err());
}

#[test]
fn the_public_apple_bundle_loads() {
    let bundle = DeviceCaBundle::from_pem(chain::APPLE_DEVICE_CAS.as_bytes()).expect("bundle");
    // Apple Root CA, and the two expired intermediates whose validity is not checked.
    assert_eq!(bundle.counts(), (1, 2));
}

#[test]
fn a_device_answer_round_trips_and_bad_udids_are_refused() {
    let answer = DeviceAnswer {
        udid: "00008030-001A35E11A88802E".into(),
        challenge: Some("c-1".into()),
        serial: Some("F2LXXXX".into()),
        ..DeviceAnswer::default()
    };
    let parsed = DeviceAnswer::parse(&answer.to_xml().expect("xml")).expect("parses");
    assert_eq!(parsed, answer);
    let bad = DeviceAnswer {
        udid: "../../etc".into(),
        ..DeviceAnswer::default()
    };
    assert!(DeviceAnswer::parse(&bad.to_xml().expect("xml")).is_err());
}
