//! Bodies the server sends back to check-in messages.

use plist::{Dictionary, Value};

/// Builds the XML plist answering `GetBootstrapToken`: a dictionary with `BootstrapToken` as
/// `<data>`, or an empty dictionary when no token is escrowed (which tells the device there is
/// none, rather than failing the request).
pub fn bootstrap_token_response(token: Option<&[u8]>) -> Vec<u8> {
    let mut dict = Dictionary::new();
    if let Some(token) = token {
        dict.insert("BootstrapToken".to_owned(), Value::Data(token.to_vec()));
    }
    let mut body = Vec::new();
    // Serialising an in-memory dictionary of one data value into a Vec has no failure mode: the
    // writer fails only on I/O errors, and a Vec never returns one.
    Value::Dictionary(dict)
        .to_writer_xml(&mut body)
        .expect("writing a plist dictionary to a Vec cannot fail");
    body
}
