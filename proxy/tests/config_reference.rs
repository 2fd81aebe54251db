//! `docs/configuration.md` and the configuration structs say the same thing.
//!
//! - Code → docs: every field of every `Deserialize` struct in the configuration source files has
//!   a row in the reference, under the right binary, with its full dotted key; "required" in the
//!   default column exactly for the fields serde requires; every value of the configuration enums
//!   is mentioned. No row names a key the code does not have.
//! - Docs → code: every ```` ```toml <binary> ```` example passes `<binary> --check-config`, as
//!   written (where only a missing referenced file may fail it), with its file paths pointing at
//!   files that exist, and once more given as environment variables only.
//! - Every environment variable in the tables follows the naming rule: the binary's
//!   `ENV_PREFIX` (read from its source) + the key's segments upper-cased and joined by `__`.
//!
//! The source files are read with a line-based scan (rustfmt layout: one field per line,
//! attributes on their own lines); it panics on shapes it does not understand rather than
//! skipping them.
//!
//! Run: `cargo build --workspace --bins && cargo test -p proxy --test config_reference`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A binary, its configuration source files (the first declares `Config` and `ENV_PREFIX`).
struct Binary {
    name: &'static str,
    files: &'static [&'static str],
}

const LOG: &str = "service-kit/src/telemetry.rs";
const DATABASE: &str = "service-kit/src/db.rs";

const BINARIES: &[Binary] = &[
    Binary {
        name: "proxy",
        files: &["proxy/src/config.rs", "proxy/src/enrollment/config.rs", LOG],
    },
    Binary {
        name: "enroll-svc",
        files: &[
            "enroll-svc/src/config.rs",
            "enroll-svc/src/provisioning/settings.rs",
            DATABASE,
            LOG,
        ],
    },
    Binary {
        name: "command-svc",
        files: &["command-svc/src/config.rs", DATABASE, LOG],
    },
    Binary {
        name: "push-svc",
        files: &["push-svc/src/config.rs", DATABASE, LOG],
    },
    Binary {
        name: "admin-svc",
        files: &[
            "admin-svc/src/config.rs",
            "admin-svc/src/config/events.rs",
            "mdm-api/src/scope.rs",
            DATABASE,
            LOG,
        ],
    },
];

const DOC: &str = "docs/configuration.md";

/// Types that are values, not sections.
const LEAF_TYPES: &[&str] = &[
    "String",
    "PathBuf",
    "SocketAddr",
    "IpAddr",
    "Ipv4Addr",
    "Ipv6Addr",
    "IpNet",
    "bool",
    "char",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
];

const CONFIG_HEADER: [&str; 5] = ["key", "environment variable", "type", "default", "meaning"];
const NAMING_HEADER: [&str; 3] = ["binary", "key", "environment variable"];
const PREFIX_HEADER: [&str; 2] = ["binary", "environment prefix"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the proxy crate is inside the workspace")
        .to_path_buf()
}

fn read(relative: &str) -> String {
    let path = workspace().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn binary(name: &str) -> &'static Binary {
    BINARIES
        .iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("`{name}` is not one of the configured binaries"))
}

// ---------------------------------------------------------------------------------------------
// Scanning the source files

#[derive(Debug, Clone)]
struct FieldDef {
    /// The name in the configuration (after `rename`/`rename_all`).
    key: String,
    ty: String,
    has_default: bool,
    flatten: bool,
    line: usize,
}

#[derive(Debug, Clone)]
struct StructDef {
    name: String,
    file: String,
    fields: Vec<FieldDef>,
    /// `#[serde(default)]` on the struct.
    all_default: bool,
}

#[derive(Debug, Clone)]
struct EnumDef {
    name: String,
    /// (serialized name, line) of each unit variant.
    values: Vec<(String, usize)>,
}

#[derive(Debug, Default)]
struct Scan {
    structs: Vec<StructDef>,
    enums: Vec<EnumDef>,
}

/// The `a, b = "c"` items of `#[serde(...)]` attributes.
#[derive(Debug, Default)]
struct SerdeAttrs {
    default: bool,
    flatten: bool,
    skip: bool,
    rename: Option<String>,
    rename_all: Option<String>,
}

impl SerdeAttrs {
    fn from(attrs: &[String], origin: &str) -> SerdeAttrs {
        let mut out = SerdeAttrs::default();
        for attr in attrs {
            let Some(inner) = attr
                .strip_prefix("#[serde(")
                .and_then(|a| a.strip_suffix(")]"))
            else {
                continue;
            };
            for item in split_top_level(inner) {
                let (name, value) = match item.split_once('=') {
                    Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"').to_string())),
                    None => (item.trim(), None),
                };
                match name {
                    "default" => out.default = true,
                    "flatten" => out.flatten = true,
                    "skip" | "skip_deserializing" => out.skip = true,
                    "rename" => out.rename = value,
                    "rename_all" => out.rename_all = value,
                    "deny_unknown_fields"
                    | "alias"
                    | "skip_serializing"
                    | "skip_serializing_if"
                    | "deserialize_with"
                    | "serialize_with"
                    | "with"
                    | "bound"
                    | "expecting" => {}
                    "from" | "try_from" | "transparent" | "untagged" | "tag" | "content"
                    | "remote" => {
                        panic!("{origin}: #[serde({name})] changes the configuration shape; teach tests/config_reference.rs about it")
                    }
                    other if other.starts_with("rename(") => {
                        panic!("{origin}: #[serde({other})] is not understood by tests/config_reference.rs")
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

/// Splits at commas outside quotes and parentheses.
fn split_top_level(text: &str) -> Vec<String> {
    let (mut items, mut current, mut depth, mut quoted) = (Vec::new(), String::new(), 0, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        items.push(current);
    }
    items
}

/// Applies a `rename_all` rule to a Rust identifier (a snake_case field or a CamelCase variant).
fn rename(ident: &str, rule: Option<&str>, origin: &str) -> String {
    let words: Vec<String> = if ident.contains('_') || ident.chars().all(|c| !c.is_uppercase()) {
        ident.split('_').map(str::to_lowercase).collect()
    } else {
        let mut words = Vec::new();
        for c in ident.chars() {
            if c.is_uppercase() || words.is_empty() {
                words.push(String::new());
            }
            words
                .last_mut()
                .expect("a word was pushed")
                .extend(c.to_lowercase());
        }
        words
    };
    match rule {
        None => ident.to_string(),
        Some("lowercase") => ident.to_lowercase(),
        Some("UPPERCASE") => ident.to_uppercase(),
        Some("snake_case") => words.join("_"),
        Some("kebab-case") => words.join("-"),
        Some("SCREAMING_SNAKE_CASE") => words.join("_").to_uppercase(),
        Some("SCREAMING-KEBAB-CASE") => words.join("-").to_uppercase(),
        Some(other) => panic!(
            "{origin}: rename_all = {other:?} is not understood by tests/config_reference.rs"
        ),
    }
}

/// Reads one attribute starting at `lines[*i]`, across lines until its brackets balance.
fn take_attribute(lines: &[&str], i: &mut usize) -> String {
    let mut text = String::new();
    let mut depth = 0i32;
    loop {
        let line = lines[*i].trim();
        *i += 1;
        text.push_str(line);
        depth += line.matches('[').count() as i32 - line.matches(']').count() as i32;
        if depth <= 0 || *i >= lines.len() {
            return text;
        }
    }
}

fn strip_visibility(line: &str) -> &str {
    for prefix in ["pub(crate) ", "pub(super) ", "pub "] {
        if let Some(rest) = line.strip_prefix(prefix) {
            return rest;
        }
    }
    line
}

fn ident_prefix(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

fn scan(file: &str) -> Scan {
    let text = read(file);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Scan::default();
    let mut attrs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.starts_with("#[") {
            attrs.push(take_attribute(&lines, &mut i));
            continue;
        }
        if line.is_empty() || line.starts_with("//") {
            i += 1;
            continue;
        }
        let item = strip_visibility(line);
        let kind = if item.starts_with("struct ") {
            Some("struct")
        } else if item.starts_with("enum ") {
            Some("enum")
        } else {
            None
        };
        let deserialize = attrs
            .iter()
            .any(|a| a.starts_with("#[derive") && a.contains("Deserialize"));
        if let (Some(kind), true) = (kind, deserialize) {
            let name = ident_prefix(&item[kind.len() + 1..]).to_string();
            let origin = format!("{file}:{} ({kind} {name})", i + 1);
            let own = SerdeAttrs::from(&attrs, &origin);
            attrs.clear();
            if !item.ends_with('{') {
                // Tuple and unit structs hold no keys; anything else is a layout we do not read.
                assert!(
                    item.ends_with(';'),
                    "{origin}: expected `{{` at the end of the line"
                );
                i += 1;
                continue;
            }
            i += 1;
            let mut depth = 1i32;
            let mut member_attrs: Vec<String> = Vec::new();
            let mut fields = Vec::new();
            let mut values = Vec::new();
            while depth > 0 {
                assert!(i < lines.len(), "{origin}: unterminated body");
                let line = lines[i].trim();
                if depth == 1 && line.starts_with("#[") {
                    member_attrs.push(take_attribute(&lines, &mut i));
                    continue;
                }
                let line_no = i + 1;
                i += 1;
                if depth == 1 && !line.is_empty() && !line.starts_with("//") && line != "}" {
                    let member_origin = format!("{file}:{line_no} ({name})");
                    let serde = SerdeAttrs::from(&member_attrs, &member_origin);
                    member_attrs.clear();
                    if kind == "struct" {
                        let declaration = strip_visibility(line);
                        let (ident, ty) = declaration.split_once(':').unwrap_or_else(|| {
                            panic!("{member_origin}: cannot read the field `{line}`")
                        });
                        let mut ty = ty.trim().to_string();
                        // A type broken over lines: read on until its brackets balance.
                        while ty.matches('<').count() > ty.matches('>').count() {
                            assert!(i < lines.len(), "{member_origin}: unterminated type");
                            ty.push_str(lines[i].trim());
                            i += 1;
                        }
                        let ty = ty.trim_end_matches(',').trim().to_string();
                        if !serde.skip {
                            fields.push(FieldDef {
                                key: serde.rename.clone().unwrap_or_else(|| {
                                    rename(ident.trim(), own.rename_all.as_deref(), &member_origin)
                                }),
                                ty,
                                has_default: serde.default,
                                flatten: serde.flatten,
                                line: line_no,
                            });
                        }
                    } else {
                        let ident = ident_prefix(line);
                        let unit = line[ident.len()..].trim().trim_end_matches(',').is_empty();
                        if unit && !serde.skip {
                            let value = serde.rename.clone().unwrap_or_else(|| {
                                rename(ident, own.rename_all.as_deref(), &member_origin)
                            });
                            values.push((value, line_no));
                        }
                    }
                }
                depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            }
            if kind == "struct" {
                out.structs.push(StructDef {
                    name,
                    file: file.to_string(),
                    fields,
                    all_default: own.default,
                });
            } else {
                out.enums.push(EnumDef { name, values });
            }
            continue;
        }
        attrs.clear();
        i += 1;
    }
    out
}

/// `Option<Vec<a::B>>` → (`B`, [`Option`, `Vec`]).
fn unwrap_type(ty: &str) -> (String, Vec<String>) {
    let mut ty = ty.trim();
    let mut wrappers = Vec::new();
    while let Some(open) = ty.find('<') {
        let head = ty[..open].rsplit("::").next().unwrap_or_default().trim();
        if ["Option", "Vec", "Box"].contains(&head) && ty.ends_with('>') {
            wrappers.push(head.to_string());
            ty = ty[open + 1..ty.len() - 1].trim();
        } else {
            break;
        }
    }
    let base = if ty.contains('<') {
        ty.to_string()
    } else {
        ty.rsplit("::").next().unwrap_or_default().to_string()
    };
    (base, wrappers)
}

/// A key the code accepts.
#[derive(Debug, Clone)]
struct Expected {
    required: bool,
    /// `file:line (Struct.field)`.
    origin: String,
}

/// Every dotted key of a binary's configuration, from its `Config` down.
fn expected_keys(bin: &Binary) -> BTreeMap<String, Expected> {
    let mut structs: HashMap<String, StructDef> = HashMap::new();
    let mut enums: BTreeSet<String> = BTreeSet::new();
    for file in bin.files {
        let scanned = scan(file);
        for s in scanned.structs {
            if let Some(other) = structs.get(&s.name) {
                panic!(
                    "{}: struct {} is declared in {} and {}; tests/config_reference.rs resolves types by name",
                    bin.name, s.name, other.file, s.file
                );
            }
            structs.insert(s.name.clone(), s);
        }
        enums.extend(scanned.enums.into_iter().map(|e| e.name));
    }
    let root = structs
        .get("Config")
        .filter(|s| s.file == bin.files[0])
        .unwrap_or_else(|| panic!("{}: no `Config` struct in {}", bin.name, bin.files[0]));
    let mut out = BTreeMap::new();
    walk(bin, root, "", &structs, &enums, &mut out, &mut Vec::new());
    out
}

fn walk(
    bin: &Binary,
    current: &StructDef,
    prefix: &str,
    structs: &HashMap<String, StructDef>,
    enums: &BTreeSet<String>,
    out: &mut BTreeMap<String, Expected>,
    stack: &mut Vec<String>,
) {
    assert!(
        !stack.contains(&current.name),
        "{}: recursive configuration type {}",
        bin.name,
        current.name
    );
    stack.push(current.name.clone());
    for field in &current.fields {
        let origin = format!(
            "{}:{} ({}.{})",
            current.file, field.line, current.name, field.key
        );
        let (base, wrappers) = unwrap_type(&field.ty);
        let key = format!("{prefix}{}", field.key);
        let nested = structs.get(&base);
        if field.flatten {
            let nested = nested.unwrap_or_else(|| {
                panic!(
                    "{origin}: flattened type `{}` is not a scanned struct",
                    field.ty
                )
            });
            walk(bin, nested, prefix, structs, enums, out, stack);
            continue;
        }
        let required = !field.has_default
            && !current.all_default
            && wrappers.first().map(String::as_str) != Some("Option");
        let expected = Expected {
            required,
            origin: origin.clone(),
        };
        match nested {
            Some(nested) if wrappers.iter().any(|w| w == "Vec") => {
                // An array of tables: a row of its own (settable as a whole), and its fields.
                out.insert(key.clone(), expected);
                walk(
                    bin,
                    nested,
                    &format!("{key}[]."),
                    structs,
                    enums,
                    out,
                    stack,
                );
            }
            Some(nested) => walk(bin, nested, &format!("{key}."), structs, enums, out, stack),
            None => {
                assert!(
                    LEAF_TYPES.contains(&base.as_str()) || enums.contains(&base),
                    "{origin}: type `{}` is neither a plain value nor declared in {}'s configuration files {:?}; \
                     add the file that declares it to BINARIES in proxy/tests/config_reference.rs",
                    field.ty,
                    bin.name,
                    bin.files
                );
                out.insert(key, expected);
            }
        }
    }
    stack.pop();
}

fn env_prefix(bin: &Binary) -> String {
    let text = read(bin.files[0]);
    let line = text
        .lines()
        .find(|l| l.contains("const ENV_PREFIX"))
        .unwrap_or_else(|| panic!("{}: no ENV_PREFIX in {}", bin.name, bin.files[0]));
    line.split('"')
        .nth(1)
        .unwrap_or_else(|| panic!("cannot read the prefix from `{line}`"))
        .to_string()
}

fn env_name(prefix: &str, key: &str) -> String {
    let segments: Vec<String> = key.split('.').map(str::to_uppercase).collect();
    format!("{prefix}{}", segments.join("__"))
}

// ---------------------------------------------------------------------------------------------
// Reading the document

#[derive(Debug)]
struct Row {
    binary: String,
    line: usize,
    key: String,
    /// `None` for —.
    env: Option<String>,
    default: String,
}

#[derive(Debug)]
struct NamingExample {
    line: usize,
    binary: String,
    key: String,
    env: String,
}

#[derive(Debug)]
struct Example {
    binary: String,
    line: usize,
    text: String,
}

#[derive(Debug, Default)]
struct Doc {
    rows: Vec<Row>,
    naming: Vec<NamingExample>,
    prefixes: Vec<(usize, String, String)>,
    examples: Vec<Example>,
    text: String,
}

/// The cells of a table line, split at unescaped `|`.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                out.last_mut().expect("a cell").push('|');
                chars.next();
            }
            '|' => out.push(String::new()),
            c => out.last_mut().expect("a cell").push(c),
        }
    }
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// The text of a cell that is exactly one code span.
fn code(cell: &str) -> Option<&str> {
    let inner = cell.strip_prefix('`')?.strip_suffix('`')?;
    (!inner.contains('`')).then_some(inner)
}

fn parse_doc() -> Doc {
    #[derive(PartialEq)]
    enum Table {
        None,
        Config,
        Naming,
        Prefix,
        Other,
    }
    let text = read(DOC);
    let mut doc = Doc::default();
    let mut section: Option<String> = None;
    let mut table = Table::None;
    let mut fence: Option<(usize, Option<String>, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let n = index + 1;
        if let Some((start, binary, body)) = &mut fence {
            if line.trim_start().starts_with("```") {
                if let Some(binary) = binary.take() {
                    doc.examples.push(Example {
                        binary,
                        line: *start,
                        text: std::mem::take(body),
                    });
                }
                fence = None;
            } else {
                body.push_str(line);
                body.push('\n');
            }
            continue;
        }
        if let Some(info) = line.trim_start().strip_prefix("```") {
            let words: Vec<&str> = info.split_whitespace().collect();
            let binary = match words.as_slice() {
                ["toml", name, ..] => {
                    assert!(
                        BINARIES.iter().any(|b| b.name == *name),
                        "{DOC}:{n}: ```toml {name}: `{name}` is not a binary"
                    );
                    Some(name.to_string())
                }
                _ => None,
            };
            fence = Some((n, binary, String::new()));
            table = Table::None;
            continue;
        }
        if let Some(title) = line.strip_prefix("## ") {
            let first = title.split_whitespace().next().unwrap_or_default();
            let name = first.trim_matches('`');
            section = BINARIES
                .iter()
                .find(|b| b.name == name)
                .map(|b| b.name.to_string());
            table = Table::None;
            continue;
        }
        if !line.trim_start().starts_with('|') {
            table = Table::None;
            continue;
        }
        let row = cells(line);
        if table == Table::None {
            let header: Vec<String> = row.iter().map(|c| c.to_lowercase()).collect();
            table = if header == CONFIG_HEADER {
                assert!(
                    section.is_some(),
                    "{DOC}:{n}: a configuration table outside a binary's `## <binary>` section"
                );
                Table::Config
            } else if header == NAMING_HEADER {
                Table::Naming
            } else if header == PREFIX_HEADER {
                Table::Prefix
            } else {
                Table::Other
            };
            continue;
        }
        if row
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|c| "-: ".contains(c)))
        {
            continue; // the separator
        }
        match table {
            Table::Config => {
                assert_eq!(
                    row.len(),
                    5,
                    "{DOC}:{n}: a configuration row has 5 cells: {line}"
                );
                let key = code(&row[0])
                    .unwrap_or_else(|| panic!("{DOC}:{n}: the key cell must be one `code` span"));
                let env = match row[1].as_str() {
                    "—" => None,
                    cell => Some(
                        code(cell)
                            .unwrap_or_else(|| {
                                panic!(
                                    "{DOC}:{n}: the environment cell must be one `code` span or —"
                                )
                            })
                            .to_string(),
                    ),
                };
                doc.rows.push(Row {
                    binary: section.clone().expect("checked at the header"),
                    line: n,
                    key: key.to_string(),
                    env,
                    default: row[3].clone(),
                });
            }
            Table::Naming => {
                assert_eq!(
                    row.len(),
                    3,
                    "{DOC}:{n}: a naming example has 3 cells: {line}"
                );
                let cell = |i: usize| {
                    code(&row[i])
                        .unwrap_or_else(|| {
                            panic!("{DOC}:{n}: cell {} must be one `code` span", i + 1)
                        })
                        .to_string()
                };
                doc.naming.push(NamingExample {
                    line: n,
                    binary: cell(0),
                    key: cell(1),
                    env: cell(2),
                });
            }
            Table::Prefix => {
                let name = code(&row[0]).unwrap_or_default().to_string();
                let prefix = code(&row[1]).unwrap_or_default().to_string();
                doc.prefixes.push((n, name, prefix));
            }
            Table::Other | Table::None => {}
        }
    }
    assert!(fence.is_none(), "{DOC}: unterminated code fence");
    doc.text = text;
    doc
}

// ---------------------------------------------------------------------------------------------
// (a) code → docs

#[test]
fn every_config_field_is_documented() {
    let doc = parse_doc();
    let mut problems = Vec::new();

    // Every field of every Deserialize struct in the listed files is named in a key somewhere (a
    // value as the last segment of a dotted key, a section as an earlier one), and every enum
    // value is mentioned.
    let documented_names: BTreeSet<&str> = doc
        .rows
        .iter()
        .flat_map(|r| {
            r.key
                .split('.')
                .map(|segment| segment.trim_end_matches("[]"))
        })
        .collect();
    let files: BTreeSet<&str> = BINARIES
        .iter()
        .flat_map(|b| b.files.iter().copied())
        .collect();
    let mut field_count = 0;
    for file in &files {
        let scanned = scan(file);
        for s in &scanned.structs {
            for f in s.fields.iter().filter(|f| !f.flatten) {
                field_count += 1;
                if !documented_names.contains(f.key.as_str()) {
                    problems.push(format!(
                        "{file}:{}: field `{}` of `{}` has no row in {DOC}",
                        f.line, f.key, s.name
                    ));
                }
            }
        }
        for e in &scanned.enums {
            for (value, line) in &e.values {
                if !doc.text.contains(&format!("`{value}`")) {
                    problems.push(format!(
                        "{file}:{line}: value `{value}` of `{}` is not mentioned in {DOC}",
                        e.name
                    ));
                }
            }
        }
    }
    assert!(
        field_count > 50,
        "the scan found only {field_count} fields: is it still reading the structs?"
    );

    // Per binary: the documented keys are exactly the keys the code accepts, and "required"
    // appears in the default column exactly for the keys serde requires.
    for bin in BINARIES {
        let expected = expected_keys(bin);
        let mut documented: BTreeMap<&str, &Row> = BTreeMap::new();
        for row in doc.rows.iter().filter(|r| r.binary == bin.name) {
            if let Some(first) = documented.insert(&row.key, row) {
                problems.push(format!(
                    "{DOC}:{}: `{}` is documented twice for {} (also line {})",
                    row.line, row.key, bin.name, first.line
                ));
            }
        }
        for (key, want) in &expected {
            match documented.get(key.as_str()) {
                None => problems.push(format!(
                    "{}: `{key}` is not documented in the `## {}` section of {DOC}",
                    want.origin, bin.name
                )),
                Some(row) => {
                    let says_required = row.default.to_lowercase().contains("required");
                    if says_required != want.required {
                        problems.push(format!(
                            "{DOC}:{}: {} `{key}` is {} (from {}), but the default column says {:?}",
                            row.line,
                            bin.name,
                            if want.required { "required" } else { "optional" },
                            want.origin,
                            row.default
                        ));
                    }
                }
            }
        }
        for (key, row) in &documented {
            if !expected.contains_key(*key) {
                problems.push(format!(
                    "{DOC}:{}: `{key}` is documented for {} but no configuration field declares it",
                    row.line, bin.name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// (b) docs → code

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("mdm-config-reference-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `<binary> --check-config [--config FILE]` with no `MDM_*` variable but `env`.
fn check_config(
    binary: &str,
    config: Option<&Path>,
    env: &[(String, String)],
    cwd: &Path,
) -> Output {
    let mut command = Command::new(testkit::workspace_bin(binary));
    command.arg("--check-config").current_dir(cwd);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MDM_") {
            command.env_remove(&name);
        }
    }
    command
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .envs(env.iter().map(|(k, v)| (k, v)));
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"))
}

fn describe(output: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout).trim(),
        String::from_utf8_lossy(&output.stderr).trim()
    )
}

fn is_file_key(key: &str) -> bool {
    key.ends_with("_file") || key.ends_with("_files")
}

/// The file paths an example names (values of `*_file` and `*_files` keys, at any depth).
fn file_paths(value: &toml::Value, key: &str, out: &mut Vec<String>) {
    match value {
        toml::Value::String(s) if is_file_key(key) => out.push(s.clone()),
        toml::Value::Array(items) => items.iter().for_each(|v| file_paths(v, key, out)),
        toml::Value::Table(t) => t.iter().for_each(|(k, v)| file_paths(v, k, out)),
        _ => {}
    }
}

/// Points every `*_file`/`*_files` path at an (empty) file that exists.
fn materialize(value: &mut toml::Value, key: &str, dir: &Path, count: &mut usize) {
    match value {
        toml::Value::String(s) if is_file_key(key) => {
            *count += 1;
            let path = dir.join(format!("file-{count}.pem"));
            std::fs::write(&path, "").expect("write a stand-in file");
            *s = path.to_string_lossy().into_owned();
        }
        toml::Value::Array(items) => items
            .iter_mut()
            .for_each(|v| materialize(v, key, dir, count)),
        toml::Value::Table(t) => t
            .iter_mut()
            .for_each(|(k, v)| materialize(v, k, dir, count)),
        _ => {}
    }
}

/// The example as `MDM_*` variables: one per value (an array of tables is one value).
fn to_env(
    prefix: &str,
    table: &toml::Table,
    path: &mut Vec<String>,
    out: &mut Vec<(String, String)>,
) {
    for (key, value) in table {
        path.push(key.clone());
        match value {
            toml::Value::Table(inner) => to_env(prefix, inner, path, out),
            other => out.push((env_name(prefix, &path.join(".")), other.to_string())),
        }
        path.pop();
    }
}

#[test]
fn examples_pass_check_config() {
    let doc = parse_doc();
    for bin in BINARIES {
        assert!(
            doc.examples.iter().any(|e| e.binary == bin.name),
            "{DOC} has no ```toml {} example",
            bin.name
        );
    }
    let dir = TempDir::new("examples");
    for example in &doc.examples {
        let bin = binary(&example.binary);
        let at = format!("{DOC}:{} (```toml {})", example.line, bin.name);
        let table: toml::Table = toml::from_str(&example.text)
            .unwrap_or_else(|e| panic!("{at}: the example is not valid TOML: {e}"));
        let work = dir.0.join(format!("{}-{}", bin.name, example.line));
        std::fs::create_dir_all(&work).expect("create a work directory");

        // As written: valid, or refused only because a file it names does not exist here.
        let file = work.join("as-written.toml");
        std::fs::write(&file, &example.text).expect("write the example");
        let output = check_config(bin.name, Some(&file), &[], &work);
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let mut paths = Vec::new();
            file_paths(&toml::Value::Table(table.clone()), "", &mut paths);
            let missing_file = stderr.contains("is not a readable file")
                && paths
                    .iter()
                    .any(|p| stderr.contains(&format!("{p} is not a readable file")));
            assert!(
                missing_file && !stderr.contains("unknown field"),
                "{at}: `{} --check-config` refused the example for another reason than a missing file:\n{}",
                bin.name,
                describe(&output)
            );
        }

        // With its files present: valid.
        let mut value = toml::Value::Table(table);
        materialize(&mut value, "", &work, &mut 0);
        let toml::Value::Table(present) = value else {
            unreachable!("still a table")
        };
        let file = work.join("with-files.toml");
        std::fs::write(&file, toml::to_string(&present).expect("serialize")).expect("write");
        let output = check_config(bin.name, Some(&file), &[], &work);
        assert!(
            output.status.success()
                && String::from_utf8_lossy(&output.stdout).contains("configuration is valid"),
            "{at}: `{} --check-config` refused the example (file paths pointed at existing files):\n{}",
            bin.name,
            describe(&output)
        );

        // The same settings as environment variables only, named by the documented rule.
        let mut env = Vec::new();
        to_env(&env_prefix(bin), &present, &mut Vec::new(), &mut env);
        let output = check_config(bin.name, None, &env, &work);
        assert!(
            output.status.success(),
            "{at}: `{} --check-config` refused the example given as environment variables {env:?}:\n{}",
            bin.name,
            describe(&output)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (c) environment variable names

#[test]
fn environment_names_follow_the_rule() {
    let doc = parse_doc();
    assert!(!doc.rows.is_empty(), "{DOC} has no configuration table");
    let mut problems = Vec::new();
    for row in &doc.rows {
        let prefix = env_prefix(binary(&row.binary));
        match (&row.env, row.key.contains("[]")) {
            (Some(env), false) => {
                let want = env_name(&prefix, &row.key);
                if *env != want {
                    problems.push(format!(
                        "{DOC}:{}: {} `{}` is set by `{want}`, not `{env}`",
                        row.line, row.binary, row.key
                    ));
                }
            }
            (None, true) => {}
            (Some(env), true) => problems.push(format!(
                "{DOC}:{}: `{}` is inside an array of tables and has no variable of its own (write —, not `{env}`)",
                row.line, row.key
            )),
            (None, false) => problems.push(format!(
                "{DOC}:{}: `{}` needs its environment variable `{}`",
                row.line,
                row.key,
                env_name(&prefix, &row.key)
            )),
        }
    }
    for example in &doc.naming {
        let want = env_name(&env_prefix(binary(&example.binary)), &example.key);
        if example.env != want {
            problems.push(format!(
                "{DOC}:{}: {} `{}` is set by `{want}`, not `{}`",
                example.line, example.binary, example.key, example.env
            ));
        }
    }
    for (line, name, prefix) in &doc.prefixes {
        let want = env_prefix(binary(name));
        if *prefix != want {
            problems.push(format!(
                "{DOC}:{line}: the prefix of {name} is `{want}`, not `{prefix}`"
            ));
        }
    }
    assert_eq!(
        doc.prefixes.len(),
        BINARIES.len(),
        "{DOC}: the prefix table lists every binary once"
    );
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}
