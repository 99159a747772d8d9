//! Text derived from user input: slugs and excerpts.

/// Longest slug, before any `-2` suffix.
pub const SLUG_MAX: usize = 100;

/// Lower case, accents stripped, non-word characters removed, words joined by `-`,
/// at most [`SLUG_MAX`] characters (cut at a word boundary when possible).
pub fn slugify(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_lowercase();
    let mut slug = String::new();
    for word in ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
    {
        let extra = word.len() + usize::from(!slug.is_empty());
        if slug.len() + extra > SLUG_MAX {
            if slug.is_empty() {
                slug.push_str(&word[..SLUG_MAX]);
            }
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(word);
    }
    slug
}

/// Characters of an excerpt derived from content.
const DERIVED_EXCERPT_CHARS: usize = 200;

/// A plain-text excerpt of `content`: tags removed, whitespace collapsed, cut at a
/// word boundary near 200 characters with an ellipsis.
pub fn derive_excerpt(content: &str) -> String {
    let mut plain = String::with_capacity(content.len().min(4 * DERIVED_EXCERPT_CHARS));
    let mut in_tag = false;
    for c in content.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            _ if !in_tag => plain.push(c),
            _ => {}
        }
        if plain.len() > 8 * DERIVED_EXCERPT_CHARS {
            break;
        }
    }
    let words: Vec<&str> = plain.split_whitespace().collect();
    let mut excerpt = String::new();
    for word in words.iter() {
        if excerpt.chars().count() + word.chars().count() + 1 > DERIVED_EXCERPT_CHARS {
            let cut: String = if excerpt.is_empty() {
                word.chars().take(DERIVED_EXCERPT_CHARS).collect()
            } else {
                excerpt
            };
            return format!("{cut}…");
        }
        if !excerpt.is_empty() {
            excerpt.push(' ');
        }
        excerpt.push_str(word);
    }
    excerpt
}

/// The trimmed value, or `None` when absent or blank.
pub fn trimmed_non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_strip_accents_and_punctuation() {
        assert_eq!(
            slugify("Héllo, Wörld! Sparkle's #1 fan"),
            "hello-world-sparkle-s-1-fan"
        );
        assert_eq!(slugify("  --  "), "");
    }

    #[test]
    fn slugs_are_cut_at_a_word_boundary() {
        let slug = slugify(&"word ".repeat(40));
        assert!(slug.len() <= SLUG_MAX);
        assert!(slug.ends_with("word"));
        assert_eq!(slugify(&"a".repeat(150)).len(), SLUG_MAX);
    }

    #[test]
    fn excerpts_drop_tags_and_stay_short() {
        assert_eq!(derive_excerpt("<p>Hello   <b>world</b></p>"), "Hello world");
        let long = derive_excerpt(&"sparkle ".repeat(100));
        assert!(long.ends_with('…'));
        assert!(long.chars().count() <= DERIVED_EXCERPT_CHARS + 1);
    }
}
