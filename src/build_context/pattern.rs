//! One `.dockerignore` pattern, matched as Docker's matcher (moby/patternmatcher) does.
//!
//! Docker first checks a pattern with Go's `filepath.Match` grammar, then translates it to
//! a regular expression (`*` is `[^/]*`, `?` is `[^/]`, `**` is `(.*/)?`, `\x` escapes `x`,
//! `[...]` passes through) and takes three shortcuts before any expression: a pattern
//! without wildcards is compared as is, `prefix/**` is a prefix test and `**/suffix` a
//! suffix test. The shortcuts do not always agree with the expression (`**.txt` matches
//! `a/b.txt` through the suffix test), so both are reproduced here, without a regex engine:
//! the expression's pieces become tokens run by a small NFA.
//!
//! Where Docker's translation mangles a pattern that `filepath.Match` accepts (`*`, `?` or
//! `[:` inside `[...]`), or Go's regexp gives a letter escape a meaning of its own that is
//! not supported here (`\b`, `\pL`, `\x41`, ...), the pattern is refused with a message
//! instead of being matched differently from Docker.

/// How a pattern is tested, after Docker's shortcuts.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// No wildcard: the path must be the pattern.
    Exact,
    /// `prefix**`: the path must start with the pattern less its last two characters.
    Prefix,
    /// `**suffix` with no other wildcard: the path ends with the pattern less its first two
    /// characters, or is that suffix less its leading `/`.
    Suffix,
    /// Anything else: the translated expression.
    Tokens(Vec<Token>),
}

/// A piece of the translated expression (anchored at both ends).
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(char),
    /// `?`: one character but `/`.
    One,
    /// `*`: any run of characters but `/`.
    Star,
    /// `**` before more pattern: `(.*/)?`, nothing or anything (but a newline, as Go's `.`)
    /// ending in `/`.
    AnyDirs,
    /// `**` at the end after other wildcards: `.*`.
    Rest,
    /// A bare `^`, which Go's regexp reads as "start of text".
    Start,
    Class(Class),
}

/// `[...]`, or a Perl class from an escape such as `\d`.
#[derive(Debug, Clone, PartialEq)]
struct Class {
    negated: bool,
    items: Vec<ClassItem>,
}

#[derive(Debug, Clone, PartialEq)]
enum ClassItem {
    Range(char, char),
    /// `\d`, `\s`, `\w` (ASCII, as in Go's regexp), negated for `\D`, `\S`, `\W`.
    Perl(char, bool),
}

/// A compiled pattern: what Docker calls its `cleanedPattern` (the text without a leading
/// `!`), whether it is an exception, and how it is tested.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub(crate) text: String,
    pub(crate) exclusion: bool,
    kind: Kind,
}

impl Pattern {
    /// One entry of the pattern list (as `PatternMatcher.New` takes it): trimmed, cleaned,
    /// `!` split off, checked and compiled. `None` for a blank entry.
    pub(crate) fn parse(raw: &str) -> Result<Option<Pattern>, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        let cleaned = clean(trimmed);
        let (exclusion, text) = match cleaned.strip_prefix('!') {
            Some("") => return Err("illegal exclusion pattern: \"!\"".into()),
            Some(rest) => (true, rest.to_string()),
            None => (false, cleaned),
        };
        let kind = compile(&text).map_err(|why| format!("pattern {text:?}: {why}"))?;
        Ok(Some(Pattern {
            text,
            exclusion,
            kind,
        }))
    }

    /// Whether `path` (relative, `/`-separated, cleaned) matches.
    pub(crate) fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            Kind::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix) || suffix.strip_prefix('/') == Some(path)
            }
            Kind::Tokens(tokens) => run(tokens, path),
        }
    }
}

#[cfg(feature = "buildkit")]
impl Pattern {
    /// Whether a path under `dir` could match: the pattern's text before its first wildcard
    /// leads into `dir`, or stops short of it (a walk filtered by include patterns enters
    /// only such directories).
    pub(crate) fn could_match_under(&self, dir: &str) -> bool {
        let literal: String = self
            .text
            .chars()
            .take_while(|c| !matches!(c, '*' | '?' | '[' | '\\'))
            .collect();
        let dir_slash = format!("{dir}/");
        literal.starts_with(&dir_slash) || dir_slash.starts_with(&literal)
    }
}

/// Go's `filepath.Clean` for `/`-separated paths: one `/` between names, no `.` names, each
/// `..` eating the name before it (or dropped at the root), `.` for nothing.
pub(crate) fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            name => parts.push(name),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

const BAD: &str = "syntax error in pattern";

/// Checks `pattern` against `filepath.Match`'s grammar and translates it as Docker does.
fn compile(pattern: &str) -> Result<Kind, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut kind = Kind::Exact;
    // Docker's tests use this instead of a flag: exact, prefix, suffix or expression.
    let mut expression = false;
    let mut at = 0;
    let mut iteration = 0;
    while at < chars.len() {
        let c = chars[at];
        at += 1;
        match c {
            '*' if chars.get(at) == Some(&'*') => {
                at += 1;
                // `**/` is read as `**`.
                if chars.get(at) == Some(&'/') {
                    at += 1;
                }
                if at == chars.len() {
                    if kind == Kind::Exact && !expression {
                        kind = Kind::Prefix;
                    } else {
                        tokens.push(Token::Rest);
                        expression = true;
                    }
                } else {
                    tokens.push(Token::AnyDirs);
                    expression = true;
                }
                if iteration == 0 {
                    kind = Kind::Suffix;
                    expression = false;
                }
            }
            '*' => {
                tokens.push(Token::Star);
                expression = true;
            }
            '?' => {
                tokens.push(Token::One);
                expression = true;
            }
            '\\' => {
                let Some(&next) = chars.get(at) else {
                    return Err(format!("{BAD} (it ends with a backslash)"));
                };
                at += 1;
                tokens.push(escape(next)?);
                expression = true;
            }
            '[' => {
                let (class, end) = class(&chars, at)?;
                tokens.push(Token::Class(class));
                at = end;
                expression = true;
            }
            ']' => {
                tokens.push(Token::Literal(']'));
                expression = true;
            }
            '^' => tokens.push(Token::Start),
            // Everything else is itself: Docker escapes `.+()|{}$` in its expression.
            c => tokens.push(Token::Literal(c)),
        }
        iteration += 1;
    }
    if expression {
        kind = Kind::Tokens(tokens);
    }
    Ok(kind)
}

/// `\c` outside or inside a class: Go's regexp reads punctuation as itself, a few letters
/// as classes or control characters, and refuses (or gives other meanings to) the rest.
fn escape(c: char) -> Result<Token, String> {
    Ok(match c {
        c if c.is_ascii_punctuation() => Token::Literal(c),
        'd' | 's' | 'w' => Token::Class(Class {
            negated: false,
            items: vec![ClassItem::Perl(c, false)],
        }),
        'D' | 'S' | 'W' => Token::Class(Class {
            negated: false,
            items: vec![ClassItem::Perl(c.to_ascii_lowercase(), true)],
        }),
        't' => Token::Literal('\t'),
        'n' => Token::Literal('\n'),
        'r' => Token::Literal('\r'),
        'f' => Token::Literal('\u{c}'),
        'v' => Token::Literal('\u{b}'),
        'a' => Token::Literal('\u{7}'),
        other => {
            return Err(format!(
                "the escape \\{other} is not supported (Docker's regexp gives it a meaning of its own or refuses it)"
            ))
        }
    })
}

/// The class opening at `chars[at - 1]`: `filepath.Match`'s grammar (non-empty, `^` to
/// negate, `lo-hi` ranges, `\` escapes, `-` and `]` escaped when literal). Returns the
/// class and the index after its `]`.
fn class(chars: &[char], mut at: usize) -> Result<(Class, usize), String> {
    let mut class = Class {
        negated: false,
        items: Vec::new(),
    };
    if chars.get(at) == Some(&'^') {
        class.negated = true;
        at += 1;
    }
    loop {
        match chars.get(at) {
            Some(']') if !class.items.is_empty() => return Ok((class, at + 1)),
            None | Some(']') | Some('-') => return Err(format!("{BAD} (in a [...] class)")),
            Some('*') | Some('?') => {
                return Err(
                    "`*` or `?` inside [...] is refused: Docker's matcher turns it into an expression that no longer means the character"
                        .into(),
                )
            }
            Some('[') if chars.get(at + 1) == Some(&':') => {
                return Err("`[:` inside [...] is refused: Docker's regexp reads it as a POSIX class".into())
            }
            Some(_) => {}
        }
        let (lo, next) = class_char(chars, at)?;
        at = next;
        if chars.get(at) == Some(&'-') {
            let (hi, next) = class_char(chars, at + 1)?;
            at = next;
            match (lo, hi) {
                (ClassItem::Range(lo, _), ClassItem::Range(hi, _)) if lo <= hi => {
                    class.items.push(ClassItem::Range(lo, hi))
                }
                (ClassItem::Range(..), ClassItem::Range(..)) => {
                    return Err("a [...] range runs backwards (Docker's regexp refuses it)".into())
                }
                _ => return Err("a Perl class cannot bound a [...] range".into()),
            }
        } else {
            class.items.push(lo);
        }
    }
}

/// One character of a class (`c` or `\c`), as `filepath.Match`'s `getEsc` reads it: it
/// cannot be `-` or `]` unescaped, and the class must go on after it.
fn class_char(chars: &[char], mut at: usize) -> Result<(ClassItem, usize), String> {
    let item = match chars.get(at) {
        None | Some('-') | Some(']') => return Err(format!("{BAD} (in a [...] class)")),
        Some('\\') => {
            at += 1;
            let Some(&c) = chars.get(at) else {
                return Err(format!("{BAD} (in a [...] class)"));
            };
            match escape(c)? {
                Token::Literal(c) => ClassItem::Range(c, c),
                Token::Class(mut perl) => perl.items.remove(0),
                _ => unreachable!("escape gives a literal or a class"),
            }
        }
        Some(&c) => ClassItem::Range(c, c),
    };
    at += 1;
    if at >= chars.len() {
        return Err(format!("{BAD} (an unclosed [...] class)"));
    }
    Ok((item, at))
}

impl Class {
    fn matches(&self, c: char) -> bool {
        let hit = self.items.iter().any(|item| match *item {
            ClassItem::Range(lo, hi) => lo <= c && c <= hi,
            ClassItem::Perl(kind, negated) => perl(kind, c) != negated,
        });
        hit != self.negated
    }
}

fn perl(kind: char, c: char) -> bool {
    match kind {
        'd' => c.is_ascii_digit(),
        's' => matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' '),
        _ => c.is_ascii_alphanumeric() || c == '_',
    }
}

/// Runs the anchored expression over `path`: a set of NFA states, one per token position
/// plus one "inside `(.*/)?`" state per position, advanced a character at a time.
fn run(tokens: &[Token], path: &str) -> bool {
    let n = tokens.len();
    // States 0..=n: the next token to match; n+1+i: inside the `.*` of AnyDirs token i.
    let mut current = vec![false; 2 * n + 2];
    let mut next = vec![false; 2 * n + 2];
    add(tokens, &mut current, 0, true);
    for c in path.chars() {
        next.iter_mut().for_each(|s| *s = false);
        for state in 0..current.len() {
            if !current[state] {
                continue;
            }
            if state > n {
                let i = state - n - 1;
                if c != '\n' {
                    next[state] = true;
                }
                if c == '/' {
                    add(tokens, &mut next, i + 1, false);
                }
                continue;
            }
            let Some(token) = tokens.get(state) else {
                continue;
            };
            match token {
                Token::Literal(l) if *l == c => add(tokens, &mut next, state + 1, false),
                Token::One if c != '/' => add(tokens, &mut next, state + 1, false),
                Token::Class(class) if class.matches(c) => add(tokens, &mut next, state + 1, false),
                Token::Star if c != '/' => add(tokens, &mut next, state, false),
                Token::Rest if c != '\n' => add(tokens, &mut next, state, false),
                _ => {}
            }
        }
        std::mem::swap(&mut current, &mut next);
    }
    current[n]
}

/// Adds state `at` and what it reaches without reading: past a `*`, `.*` or `(.*/)?`, into
/// the `(.*/)?`'s loop, and past a `^` at the start of the text.
fn add(tokens: &[Token], states: &mut [bool], at: usize, at_start: bool) {
    let n = tokens.len();
    if states[at] {
        return;
    }
    states[at] = true;
    match tokens.get(at) {
        Some(Token::Star) | Some(Token::Rest) => add(tokens, states, at + 1, at_start),
        Some(Token::AnyDirs) => {
            states[n + 1 + at] = true;
            add(tokens, states, at + 1, at_start);
        }
        Some(Token::Start) if at_start => add(tokens, states, at + 1, at_start),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> Pattern {
        Pattern::parse(text).unwrap().unwrap()
    }

    fn check(text: &str, yes: &[&str], no: &[&str]) {
        let p = pattern(text);
        for path in yes {
            assert!(
                p.matches(path),
                "{text:?} should match {path:?} ({:?})",
                p.kind
            );
        }
        for path in no {
            assert!(
                !p.matches(path),
                "{text:?} should not match {path:?} ({:?})",
                p.kind
            );
        }
    }

    #[test]
    fn clean_is_go_filepath_clean() {
        for (input, want) in [
            ("", "."),
            (".", "."),
            ("a/./b", "a/b"),
            ("a//b/", "a/b"),
            ("a/../b", "b"),
            ("a/b/../../..", ".."),
            ("../a/..", ".."),
            ("/../a", "/a"),
            ("/", "/"),
            ("//a", "/a"),
            ("!a/../b", "b"),
            ("./**/x", "**/x"),
        ] {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn shortcuts_are_chosen_as_docker_does() {
        assert_eq!(pattern("a/b.txt").kind, Kind::Exact);
        assert_eq!(pattern("a{1}+$").kind, Kind::Exact);
        assert_eq!(pattern("dir/**").kind, Kind::Prefix);
        assert_eq!(pattern("**/x.txt").kind, Kind::Suffix);
        assert_eq!(pattern("**").kind, Kind::Suffix);
        assert!(matches!(pattern("**/*.txt").kind, Kind::Tokens(_)));
        assert!(matches!(pattern("a*/**").kind, Kind::Tokens(_)));
    }

    // The examples of the `.dockerignore` section of Docker's build reference.
    #[test]
    fn documented_examples() {
        // `*/temp*`: a name starting with temp in any direct subdirectory of the root.
        check(
            "*/temp*",
            &["somedir/temporary.txt", "somedir/temp"],
            &["temp", "a/b/temp", "somedir/xtemp"],
        );
        // `*/*/temp*`: two levels below the root.
        check(
            "*/*/temp*",
            &["somedir/subdir/temporary.txt"],
            &["somedir/temporary.txt", "temp"],
        );
        // `temp?`: one character after temp, in the root only.
        check(
            "temp?",
            &["tempa", "tempb"],
            &["temp", "tempab", "a/tempa", "temp/"],
        );
        // `**/*.go`: any .go file, the root included.
        check(
            "**/*.go",
            &["main.go", "a/main.go", "a/b/c/x.go"],
            &["main.go/x", "a/main.gox"],
        );
    }

    #[test]
    fn stars_and_question_marks_stop_at_slashes() {
        check("*", &["a", "abc", ".hidden"], &["a/b"]);
        check("a*c", &["ac", "abc", "abbbc"], &["a/c", "abd"]);
        check("a?c", &["abc"], &["ac", "a/c", "abbc"]);
        check("*.md", &["README.md"], &["docs/a.md"]);
    }

    #[test]
    fn double_star_spans_directories() {
        check(
            "a/**/b",
            &["a/b", "a/x/b", "a/x/y/b"],
            &["a/xb", "b", "a/b/c"],
        );
        check("**/b", &["b", "a/b", "a/x/b"], &["ab", "b/c"]);
        check("dir/**", &["dir/", "dir/x", "dir/x/y"], &["dir", "dirx"]);
        check("**", &["a", "a/b/c"], &[]);
        // The suffix shortcut: `**.txt` is a suffix test, not `(.*/)?\.txt`.
        check("**.txt", &["a.txt", "x/y.txt", ".txt"], &["a.txt.gz"]);
        // After another wildcard, a final `**` is `.*`.
        check("a*/**", &["ab/c", "a/", "ab/c/d"], &["a", "b/c"]);
        // `.` in Go's regexp does not cross a newline.
        check("a*/**", &[], &["ab/c\nd"]);
        check("x/**/y*", &["x/y", "x/a/b/yz"], &["x/a\nb/y"]);
    }

    #[test]
    fn classes_follow_filepath_match() {
        check("[abc]", &["a", "c"], &["d", "ab"]);
        check("[a-c]x", &["bx"], &["dx"]);
        check("[^a-c]", &["d", "/"], &["a", "dd"]);
        check("[!a]", &["!", "a"], &["b"]);
        check("[\\]]", &["]"], &["\\"]);
        check("[\\-a]", &["-", "a"], &["b"]);
        check("x[.]y", &["x.y"], &["xzy"]);
        check(
            "file[0-9].txt",
            &["file3.txt"],
            &["filex.txt", "file10.txt"],
        );
        check("é[é-ë]", &["éê"], &["ée"]);
    }

    #[test]
    fn escapes() {
        check("\\*", &["*"], &["a", "\\*"]);
        check("a\\?b", &["a?b"], &["axb"]);
        check("\\[x\\]", &["[x]"], &["x"]);
        check("a\\.b*", &["a.b", "a.bc"], &["axb"]);
        // A letter escape is what Go's regexp makes of it.
        check("v\\d*", &["v1", "v12x"], &["vx"]);
        check("\\D", &["x"], &["1"]);
        check("a\\sb", &["a b"], &["ab"]);
    }

    #[test]
    fn other_regexp_characters_are_literal_or_anchors() {
        check("a+b*", &["a+b", "a+bc"], &["aab"]);
        check("(x)|y*", &["(x)|y"], &["x", "y"]);
        check("a]*", &["a]", "a]x"], &["a"]);
        // A bare `^` is Go's start-of-text: `*^x` only matches `x`.
        check("*^x", &["x"], &["a^x", "ax"]);
        // Without a wildcard the pattern is compared as text, `^` included.
        check("a^b", &["a^b"], &["ab"]);
    }

    #[test]
    fn exclusions_and_cleaning() {
        let p = pattern("  !a//b/  ");
        assert!(p.exclusion);
        assert_eq!(p.text, "a/b");
        assert!(Pattern::parse("   ").unwrap().is_none());
        assert!(Pattern::parse("!")
            .unwrap_err()
            .contains("illegal exclusion"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "[",
            "[]",
            "[a",
            "a[]b",
            "[a-]",
            "[-a]",
            "[^]",
            "a\\",
            "[z-a]",
            "[*]",
            "[?]",
            "x\\b",
            "\\pL",
            "[[:alpha:]]",
            "[\\",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?} should be refused");
        }
        for good in ["]", "a]", "[[]", "[a-a]", "{a,b}"] {
            assert!(Pattern::parse(good).is_ok(), "{good:?} should be accepted");
        }
        // `[]]x]` is a bad class in Go (`]` cannot open it), `[[]` a class of `[`.
        assert!(Pattern::parse("[]]x]").is_err());
        check("[[]", &["["], &["a"]);
        check("{a,b}", &["{a,b}"], &["a"]);
    }
}
