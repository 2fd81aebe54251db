//! Which strings an XML plist can carry.

/// Whether every character of `text` is one XML 1.0 allows. The plist writer copies strings
/// through unchanged, so a NUL or another C0 control (other than tab, newline and carriage
/// return) would make a command no XML parser, the device's included, accepts.
pub(super) fn is_xml_text(text: &str) -> bool {
    text.chars().all(is_xml_char)
}

/// The reason given when [`is_xml_text`] fails.
pub(super) const NOT_XML_TEXT: &str = "contains a control character that an XML plist cannot carry";

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}
