//! Device messages as real devices send them (XML plists), for driving the server in tests.
//! Shapes follow the captures in `fixtures/commandment/testdata`.

/// Escapes text for a plist `<string>`.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn plist(entries: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n{entries}</dict>\n</plist>\n"
    )
    .into_bytes()
}

fn string(key: &str, value: &str) -> String {
    format!("\t<key>{key}</key>\n\t<string>{}</string>\n", xml(value))
}

fn data(key: &str, value: &[u8]) -> String {
    use base64::Engine;
    format!(
        "\t<key>{key}</key>\n\t<data>{}</data>\n",
        base64::engine::general_purpose::STANDARD.encode(value)
    )
}

/// The push topic used by test devices.
pub const TOPIC: &str = "com.apple.mgmt.External.00000000-1111-2222-3333-444444444444";

/// An iPhone's Authenticate.
pub fn authenticate(udid: &str) -> Vec<u8> {
    authenticate_as(udid, "C39TEST0001", "Test iPhone")
}

/// An iPhone's Authenticate with its own serial number and name.
pub fn authenticate_as(udid: &str, serial: &str, name: &str) -> Vec<u8> {
    plist(
        &[
            string("MessageType", "Authenticate"),
            string("UDID", udid),
            string("Topic", TOPIC),
            string("BuildVersion", "15E216"),
            string("OSVersion", "11.3.1"),
            string("ProductName", "iPhone10,4"),
            string("SerialNumber", serial),
            string("IMEI", "35 000000 000000 0"),
            string("DeviceName", name),
            string("Model", "MQ6M2"),
            string("ModelName", "iPhone"),
        ]
        .concat(),
    )
}

/// A device-channel TokenUpdate with an UnlockToken.
pub fn token_update(udid: &str, token: &[u8], push_magic: &str) -> Vec<u8> {
    token_update_on(udid, token, push_magic, TOPIC)
}

/// [`token_update`] on another push topic (a second push certificate's).
pub fn token_update_on(udid: &str, token: &[u8], push_magic: &str, topic: &str) -> Vec<u8> {
    plist(
        &[
            string("MessageType", "TokenUpdate"),
            string("UDID", udid),
            string("Topic", topic),
            data("Token", token),
            string("PushMagic", push_magic),
            data("UnlockToken", b"unlock-token-blob"),
            "\t<key>AwaitingConfiguration</key>\n\t<false/>\n".to_string(),
        ]
        .concat(),
    )
}

/// A macOS user-channel TokenUpdate.
pub fn user_token_update(udid: &str, user_id: &str, token: &[u8], push_magic: &str) -> Vec<u8> {
    plist(
        &[
            string("MessageType", "TokenUpdate"),
            string("UDID", udid),
            string("UserID", user_id),
            string("UserShortName", "cjoe"),
            string("UserLongName", "Commando Joe"),
            string("Topic", TOPIC),
            data("Token", token),
            string("PushMagic", push_magic),
        ]
        .concat(),
    )
}

/// CheckOut.
pub fn check_out(udid: &str) -> Vec<u8> {
    plist(
        &[
            string("MessageType", "CheckOut"),
            string("UDID", udid),
            string("Topic", TOPIC),
        ]
        .concat(),
    )
}

/// UserAuthenticate (first phase, no digest).
pub fn user_authenticate(udid: &str, user_id: &str) -> Vec<u8> {
    plist(
        &[
            string("MessageType", "UserAuthenticate"),
            string("UDID", udid),
            string("UserID", user_id),
            string("UserShortName", "cjoe"),
        ]
        .concat(),
    )
}

/// SetBootstrapToken.
pub fn set_bootstrap_token(udid: &str, token: &[u8]) -> Vec<u8> {
    plist(
        &[
            string("MessageType", "SetBootstrapToken"),
            string("UDID", udid),
            data("BootstrapToken", token),
        ]
        .concat(),
    )
}

/// GetBootstrapToken.
pub fn get_bootstrap_token(udid: &str) -> Vec<u8> {
    plist(
        &[
            string("MessageType", "GetBootstrapToken"),
            string("UDID", udid),
        ]
        .concat(),
    )
}

/// A check-in with a MessageType this server does not know.
pub fn unknown_message_type(udid: &str) -> Vec<u8> {
    plist(&[string("MessageType", "Teleport"), string("UDID", udid)].concat())
}

/// An Idle command report.
pub fn idle(udid: &str) -> Vec<u8> {
    plist(&[string("Status", "Idle"), string("UDID", udid)].concat())
}

/// A command report: `Status` for `command_uuid`, with `extra` (raw plist `<key>…` entries,
/// such as a `QueryResponses` dictionary) beside it.
pub fn report(udid: &str, command_uuid: &str, status: &str, extra: &str) -> Vec<u8> {
    plist(
        &[
            string("Status", status),
            string("UDID", udid),
            string("CommandUUID", command_uuid),
            extra.to_owned(),
        ]
        .concat(),
    )
}
