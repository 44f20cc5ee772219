//! Spec descriptions as rustdoc: safe to compile (no accidental doctests) and one
//! `#[doc]` line per text line, so that prettyplease prints `///` comments.

use proc_macro2::TokenStream;
use quote::quote;

/// Markdown from the spec made safe for rustdoc: fences get a `text` language so that
/// they are never compiled as doctests, and indentation outside fences is capped at three
/// spaces so that no indented code block appears either.
pub fn sanitize(text: &str) -> String {
    let mut out = Vec::new();
    let mut in_fence = false;
    for line in text.trim().lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            if !in_fence && trimmed.trim_end() == "```" {
                out.push(format!(
                    "{}```text",
                    &line[..line.len() - trimmed.len()]
                        .chars()
                        .take(3)
                        .collect::<String>()
                ));
            } else {
                out.push(line.trim_end().to_string());
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            out.push(line.trim_end().to_string());
        } else {
            let indent = (line.len() - trimmed.len()).min(3);
            out.push(format!("{}{}", " ".repeat(indent), trimmed.trim_end()));
        }
    }
    if in_fence {
        out.push("```".into());
    }
    out.join("\n")
}

/// `#[doc = " line"]` attributes for a text.
pub fn doc_attrs(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        }
    });
    quote! { #( #[doc = #lines] )* }
}

/// Doc attributes from optional spec text (sanitized).
pub fn doc(text: Option<&str>) -> TokenStream {
    match text {
        Some(t) if !t.trim().is_empty() => doc_attrs(&sanitize(t)),
        _ => TokenStream::new(),
    }
}

/// For a field whose name is a Rust keyword: how a user writes it. Rustdoc shows the field
/// as `type`, which does not compile; `r#type` does.
pub fn written_as(rust_name: &str) -> String {
    match rust_name.strip_prefix("r#") {
        Some(word) => format!(" Written `r#{word}` in Rust (`{word}` is a keyword)."),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_become_text_and_indentation_is_capped() {
        let input = "Example:\n\n```\n{\"a\": 1}\n```\n\n        indented\n```json\n{}\n```";
        let out = sanitize(input);
        assert_eq!(
            out,
            "Example:\n\n```text\n{\"a\": 1}\n```\n\n   indented\n```json\n{}\n```"
        );
    }

    #[test]
    fn an_unclosed_fence_is_closed() {
        assert_eq!(sanitize("```\ncode"), "```text\ncode\n```");
    }
}
