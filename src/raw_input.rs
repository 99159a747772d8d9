//! What raw request input may hold, checked before anything else sees it: values
//! nested to a bounded depth, and text without NUL characters.
//!
//! Nesting: parsers of JSON and GraphQL, and everything that walks their values,
//! recurse once per level. A request of a few kilobytes (`[[[[…]]]]`) would otherwise
//! overflow the thread's stack, which aborts the whole process, not just the request.
//! The scans here are loops: their cost is one pass over the text, whatever its depth.
//!
//! NUL: PostgreSQL cannot store U+0000 in text and fails the whole statement, while
//! SQLite would store it. Refusing it at the edge treats it alike on both backends,
//! naming the field, before any query runs.

/// Deepest nesting of `[`/`{` accepted in a JSON body or a GraphQL document (values,
/// and selection sets, whose own depth limit is far lower).
pub const MAX_NESTING: usize = 64;

/// The message of every nesting refusal.
pub fn too_deep_message() -> String {
    format!("Values nest deeper than {MAX_NESTING} levels")
}

/// Brackets open at a point of a scan.
#[derive(Default)]
struct Depth(usize);

impl Depth {
    /// Counts one more open bracket; true when that is deeper than [`MAX_NESTING`].
    fn opens_too_deep(&mut self) -> bool {
        self.0 += 1;
        self.0 > MAX_NESTING
    }

    /// One fewer open (a stray closing bracket is the parser's to report).
    fn close(&mut self) {
        self.0 = self.0.saturating_sub(1);
    }
}

/// Whether the JSON text `bytes` nests arrays and objects deeper than [`MAX_NESTING`].
/// Malformed text is left to the parser, which reports it.
pub fn json_too_deep(bytes: &[u8]) -> bool {
    let mut depth = Depth::default();
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' if depth.opens_too_deep() => return true,
            b']' | b'}' => depth.close(),
            _ => {}
        }
    }
    false
}

/// Whether the GraphQL document `text` nests lists, objects and selection sets deeper
/// than [`MAX_NESTING`]. Strings, block strings and comments are skipped.
pub fn graphql_too_deep(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut depth = Depth::default();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'#' => {
                while index < bytes.len() && bytes[index] != b'\n' && bytes[index] != b'\r' {
                    index += 1;
                }
            }
            b'"' if bytes[index..].starts_with(b"\"\"\"") => {
                index += 3;
                while index < bytes.len() && !bytes[index..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped delimiter inside a block string.
                    index += if bytes[index..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                index += 2;
            }
            b'"' => {
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' {
                    index += if bytes[index] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' if depth.opens_too_deep() => return true,
            b']' | b'}' => depth.close(),
            _ => {}
        }
        index += 1;
    }
    false
}

/// Whether a GraphQL value (variables, say) nests deeper than [`MAX_NESTING`].
/// Walks with an explicit stack, so any depth is safe to check.
pub fn value_too_deep(value: &async_graphql::Value) -> bool {
    use async_graphql::Value;
    let mut pending = vec![(value, 0usize)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::List(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if depth + 1 > MAX_NESTING {
            return true;
        }
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    false
}

/// The message of every NUL refusal.
pub const NUL_MESSAGE: &str = "must not contain NUL characters";

/// Whether JSON text may hold a NUL character (written `\u0000`; JSON allows no raw
/// control character in strings). A cheap first look: [`json_nul_field`] confirms.
pub fn json_may_hold_nul(bytes: &[u8]) -> bool {
    bytes.windows(6).any(|window| window == b"\\u0000")
}

/// The path (`input.title`, `tags[2]`) of the first string in `value`, key or value,
/// that holds a NUL character. `value` was parsed from JSON nested at most
/// [`MAX_NESTING`] deep.
pub fn json_nul_field(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let mut pending = vec![(value, String::new())];
    while let Some((value, path)) = pending.pop() {
        match value {
            Value::String(text) if text.contains('\0') => {
                return Some(if path.is_empty() {
                    "body".to_owned()
                } else {
                    path
                });
            }
            Value::Array(items) => pending.extend(
                items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| (item, format!("{path}[{index}]"))),
            ),
            Value::Object(fields) => {
                for (key, item) in fields {
                    let child = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    if key.contains('\0') {
                        return Some(child);
                    }
                    pending.push((item, child));
                }
            }
            _ => {}
        }
    }
    None
}

/// The name of the first GraphQL variable whose value holds a NUL character anywhere.
pub fn variables_nul_field(variables: &async_graphql::Variables) -> Option<String> {
    use async_graphql::Value;
    variables.iter().find_map(|(name, value)| {
        let mut pending = vec![value];
        while let Some(value) = pending.pop() {
            match value {
                Value::String(text) if text.contains('\0') => return Some(name.to_string()),
                Value::List(items) => pending.extend(items),
                Value::Object(fields) => {
                    if fields.keys().any(|key| key.contains('\0')) {
                        return Some(name.to_string());
                    }
                    pending.extend(fields.values());
                }
                _ => {}
            }
        }
        None
    })
}

/// Whether a GraphQL document writes a NUL character in a string (`\u0000`, or
/// `\u{0}` in any number of zeros).
pub fn graphql_has_nul_escape(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices("\\u").any(|(index, _)| {
        // `\\u0000` is an escaped backslash, then plain text.
        let backslashes_before = bytes[..index]
            .iter()
            .rev()
            .take_while(|&&byte| byte == b'\\')
            .count();
        let rest = &bytes[index + 2..];
        backslashes_before % 2 == 0
            && (rest.starts_with(b"0000")
                || rest.strip_prefix(b"{").is_some_and(|braced| {
                    let zeros = braced.iter().take_while(|&&byte| byte == b'0').count();
                    zeros > 0 && braced.get(zeros) == Some(&b'}')
                }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(open: &str, close: &str, levels: usize) -> String {
        format!("{}1{}", open.repeat(levels), close.repeat(levels))
    }

    #[test]
    fn json_depth_counts_only_structure() {
        assert!(!json_too_deep(nested("[", "]", MAX_NESTING).as_bytes()));
        assert!(json_too_deep(nested("[", "]", MAX_NESTING + 1).as_bytes()));
        assert!(json_too_deep(nested("{\"a\":", "}", 100_000).as_bytes()));
        let in_string = format!("{{\"a\": \"{}\\\"[\"}}", "[".repeat(1000));
        assert!(!json_too_deep(in_string.as_bytes()));
    }

    #[test]
    fn graphql_depth_skips_strings_and_comments() {
        let deep = format!("{{ a(x: {}) }}", nested("[", "]", MAX_NESTING));
        assert!(graphql_too_deep(&deep));
        let fine = format!("{{ a(x: {}) }}", nested("[", "]", MAX_NESTING - 1));
        assert!(!graphql_too_deep(&fine));
        let quoted = format!(
            "{{ a(x: \"{0}\\\"\", y: \"\"\"{0}\\\"\"\"\"\"\") # {0}\n }}",
            "[".repeat(1000)
        );
        assert!(!graphql_too_deep(&quoted));
        assert!(graphql_too_deep(&format!(
            "{{ a(x: {}) }}",
            nested("{a:", "}", 100_000)
        )));
    }

    #[test]
    fn nul_characters_are_found_with_their_field() {
        let body = br#"{"title": "ok", "tags": ["a", "b\u0000c"]}"#;
        assert!(json_may_hold_nul(body));
        let value: serde_json::Value = serde_json::from_slice(body).expect("json");
        assert_eq!(json_nul_field(&value).as_deref(), Some("tags[1]"));
        assert!(!json_may_hold_nul(br#"{"title": "plain"}"#));
        assert!(graphql_has_nul_escape(r#"{ a(x: "b\u0000") }"#));
        assert!(graphql_has_nul_escape(r#"{ a(x: "b\u{000}") }"#));
        assert!(!graphql_has_nul_escape(
            r#"{ a(x: "b\u0041 \u{10} \\u0000") }"#
        ));
    }

    #[test]
    fn value_depth_is_checked_without_recursion() {
        let mut value = async_graphql::Value::Null;
        for _ in 0..=MAX_NESTING {
            value = async_graphql::Value::List(vec![value]);
        }
        assert!(value_too_deep(&value));
        if let async_graphql::Value::List(mut items) = value {
            let inner = items.pop().expect("one item");
            assert!(!value_too_deep(&inner));
        }
    }
}
