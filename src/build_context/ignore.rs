//! `.dockerignore`: how the docker CLI reads the file (`ignorefile.ReadAll`) and how its
//! pattern list decides what is left out (`PatternMatcher` of moby/patternmatcher, as the
//! CLI's archiver walks a context with it).

use super::pattern::{clean, Pattern};

/// The patterns of a `.dockerignore`, in order, as `ReadAll` returns them: lines split at
/// `\n` (a `\r` before it dropped), a UTF-8 BOM dropped from the first, lines *starting*
/// with `#` skipped (before trimming: ` #x` is a pattern), blank lines skipped, each line
/// trimmed, `!` split off and the rest trimmed again and cleaned, a leading `/` dropped.
pub(crate) fn read_patterns(content: &[u8]) -> Vec<String> {
    let content = String::from_utf8_lossy(content);
    let content = content.strip_prefix('\u{feff}').unwrap_or(&content);
    let mut patterns = Vec::new();
    for line in content.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('#') {
            continue;
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (invert, rest) = match line.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        let mut pattern = if rest.is_empty() {
            String::new()
        } else {
            let cleaned = clean(rest);
            match cleaned.strip_prefix('/') {
                Some(relative) if !relative.is_empty() => relative.to_string(),
                _ => cleaned,
            }
        };
        if invert {
            pattern.insert(0, '!');
        }
        patterns.push(pattern);
    }
    patterns
}

/// The compiled list. Later patterns win: a path is left out when the last pattern that
/// matches it (or one of its parent directories) is not an exception.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    patterns: Vec<Pattern>,
}

/// What the patterns made of a directory, handed to its children (`MatchInfo`): whether
/// each pattern matched it or one of its parents.
pub(crate) type ParentMatches = Vec<bool>;

impl Matcher {
    /// Compiles the list (`PatternMatcher.New`); a bad pattern is an error naming it.
    pub(crate) fn new(patterns: &[String]) -> Result<Matcher, String> {
        let mut compiled = Vec::with_capacity(patterns.len());
        for raw in patterns {
            if let Some(pattern) = Pattern::parse(raw)? {
                compiled.push(pattern);
            }
        }
        Ok(Matcher { patterns: compiled })
    }

    /// `MatchesOrParentMatches`: whether `file` is left out, testing each pattern against
    /// the file and each of its parent directories.
    pub(crate) fn excludes(&self, file: &str) -> bool {
        let file = clean(file);
        if file == "." {
            return false;
        }
        let parents: Vec<&str> = match file.rfind('/') {
            Some(slash) => file[..slash].split('/').collect(),
            None => Vec::new(),
        };
        let mut matched = false;
        for pattern in &self.patterns {
            // An include cannot change an excluded path, nor an exception a kept one.
            if pattern.exclusion != matched {
                continue;
            }
            let hit = pattern.matches(&file)
                || (1..=parents.len()).any(|n| pattern.matches(&parents[..n].join("/")));
            if hit {
                matched = !pattern.exclusion;
            }
        }
        matched
    }

    /// `MatchesUsingParentResults`, what the CLI's archiver walks with: a pattern that
    /// matched the parent matches the child; the others are tested against the child only
    /// (against its parents too when there is no parent result: a top-level entry).
    pub(crate) fn excludes_under(
        &self,
        file: &str,
        parent: Option<&ParentMatches>,
    ) -> (bool, ParentMatches) {
        let mut matched = false;
        let mut info = vec![false; self.patterns.len()];
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut hit = parent.is_some_and(|p| p[i]);
            if !hit {
                if pattern.exclusion != matched {
                    continue;
                }
                hit = pattern.matches(file);
                if !hit && parent.is_none() {
                    if let Some(slash) = file.rfind('/') {
                        let dirs: Vec<&str> = file[..slash].split('/').collect();
                        hit = (1..=dirs.len()).any(|n| pattern.matches(&dirs[..n].join("/")));
                    }
                }
            }
            info[i] = hit;
            if hit {
                matched = !pattern.exclusion;
            }
        }
        (matched, info)
    }

    /// Whether the walk must enter an excluded directory: some exception, read as a path,
    /// lies under it (`!dir/keep` for `dir`). Wildcards are not expanded, as in Docker:
    /// `!*/keep` does not reopen `dir`.
    pub(crate) fn may_reinclude_under(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.patterns
            .iter()
            .any(|p| p.exclusion && format!("{}/", p.text).starts_with(&dir_slash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(lines: &str) -> Matcher {
        Matcher::new(&read_patterns(lines.as_bytes())).unwrap()
    }

    #[test]
    fn reading_the_file() {
        let file = "\u{feff}# comment\n\n  \n *.tmp  \r\n #not a comment\n/abs/path\n!  /keep/./me/ \n!\nsub//dir/../x\n/\n";
        assert_eq!(
            read_patterns(file.as_bytes()),
            vec![
                "*.tmp",
                "#not a comment",
                "abs/path",
                "!keep/me",
                "!",
                "sub/x",
                "/"
            ]
        );
        // A BOM only counts on the first line; no final newline is needed.
        assert_eq!(
            read_patterns("a\n\u{feff}b".as_bytes()),
            vec!["a", "\u{feff}b"]
        );
        assert!(read_patterns(b"").is_empty());
    }

    #[test]
    fn a_lone_exclamation_mark_is_refused() {
        assert!(Matcher::new(&read_patterns(b"!\n"))
            .unwrap_err()
            .contains("illegal exclusion"));
        assert!(Matcher::new(&read_patterns(b"[\n"))
            .unwrap_err()
            .contains("syntax error"));
    }

    #[test]
    fn the_last_matching_pattern_wins() {
        // The build reference's example: every markdown file but README*.md.
        let m = matcher("*.md\n!README*.md");
        assert!(m.excludes("CHANGES.md"));
        assert!(!m.excludes("README.md"));
        assert!(!m.excludes("README-secret.md"));
        // ... and the order matters: README-secret.md is out again after this.
        let m = matcher("*.md\n!README*.md\nREADME-secret.md");
        assert!(m.excludes("README-secret.md"));
        assert!(!m.excludes("README.md"));
        let m = matcher("*.md\nREADME-secret.md\n!README*.md");
        assert!(!m.excludes("README-secret.md"));
    }

    #[test]
    fn a_matching_directory_excludes_its_tree() {
        let m = matcher("build\n/docs/*.tmp");
        assert!(m.excludes("build"));
        assert!(m.excludes("build/a/b.o"));
        assert!(!m.excludes("src/build"));
        assert!(m.excludes("docs/x.tmp"));
        assert!(m.excludes("docs/x.tmp/inner"));
        assert!(!m.excludes("docs/sub/x.tmp"));
        assert!(!m.excludes("."));
    }

    #[test]
    fn exceptions_reinclude_children_of_excluded_directories() {
        let m = matcher("vendor\n!vendor/keep.txt");
        assert!(m.excludes("vendor"));
        assert!(m.excludes("vendor/drop.txt"));
        assert!(!m.excludes("vendor/keep.txt"));
        assert!(m.may_reinclude_under("vendor"));
        assert!(!m.may_reinclude_under("other"));
        // Only exceptions read as paths reopen a directory.
        let m = matcher("*\n!*/keep");
        assert!(!m.may_reinclude_under("dir"));
        let m = matcher("a\n!a/b/c");
        assert!(m.may_reinclude_under("a") && m.may_reinclude_under("a/b"));
        assert!(!m.may_reinclude_under("a/x") && !m.may_reinclude_under("ab"));
    }

    #[test]
    fn parent_results_follow_dockers_walker() {
        let m = matcher("vendor\n!vendor/keep\n");
        let (dir, info) = m.excludes_under("vendor", None);
        assert!(dir);
        assert!(m.excludes_under("vendor/x", Some(&info)).0);
        assert!(!m.excludes_under("vendor/keep", Some(&info)).0);
        let (keep_dir, keep_info) = m.excludes_under("vendor/keep", Some(&info));
        assert!(!keep_dir);
        // Under a re-included directory, the exception matched the parent: kept.
        assert!(!m.excludes_under("vendor/keep/deep", Some(&keep_info)).0);

        // Where the walker and MatchesOrParentMatches differ, the walker is followed: `!a`
        // was not tested for `a` (nothing was excluded yet), so for `a/b` it is tested
        // against `a/b` alone and does not apply.
        let m = matcher("a/b\n!a");
        let (_, info) = m.excludes_under("a", None);
        assert!(m.excludes_under("a/b", Some(&info)).0);
        assert!(!m.excludes("a/b"));
    }

    #[test]
    fn top_level_entries_without_parent_results() {
        let m = matcher("**/node_modules\n");
        assert!(m.excludes_under("node_modules", None).0);
        assert!(m.excludes_under("a/node_modules/x", None).0);
        assert!(!m.excludes_under("a/b", None).0);
    }
}
