//! Escaping for every markup format the renderers write, in one place. Every value that came
//! from outside (a signed report, a case id, a runtime's output) goes through one of these.

/// Text and attribute values in HTML and XML: `&<>"'` become entities; control characters
/// other than newline and tab (not allowed in XML 1.0, confusing in HTML) become U+FFFD.
pub fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// A value in a GitHub-flavoured Markdown table cell, as literal text: no raw HTML (`<>&`
/// become entities), no cell break (`|` escaped), no line break (a newline would end the row
/// and let the rest render as a block of its own), and no inline markup (backslash-escaped
/// ASCII punctuation, which CommonMark renders as the character itself).
pub fn markdown(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '|' => o.push_str("\\|"),
            '\n' | '\r' | '\t' => o.push(' '),
            c if c.is_control() => o.push('\u{FFFD}'),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '!' | '~' => {
                o.push('\\');
                o.push(c);
            }
            c => o.push(c),
        }
    }
    o
}

/// Text for a terminal: control characters (escape sequences a hostile runtime or report
/// could use to rewrite the screen) become U+FFFD; newlines and tabs are kept.
pub fn terminal(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_never_passes_through() {
        assert_eq!(
            super::xml("<a href=\"x\">'&'</a>\u{1b}"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\u{FFFD}"
        );
        let md = super::markdown("a|b\n<script>alert(1)</script> `x` *y* [l](u)");
        assert!(!md.contains('\n') && !md.contains('<') && !md.contains("`x`"));
        assert_eq!(md.matches("\\|").count(), 1);
        assert_eq!(super::terminal("a\u{1b}[2Jb\n"), "a\u{FFFD}[2Jb\n");
    }
}
