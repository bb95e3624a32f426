//! `$(VAR)` references in env values, command and args, with Kubernetes'
//! rules: `$$` is a literal `$`, a reference to an unknown variable stays as
//! written, and a `$` that starts no reference is kept.

/// Expands `input` with `lookup` resolving variable names.
pub fn expand<'a>(input: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|inner| inner.split_once(')')) {
            match lookup(name) {
                Some(value) => out.push_str(value),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = tail;
        } else {
            // Not a reference (or an unclosed one): the `$` is ordinary text.
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Expands `$(VAR)` in a container's command or args with its final environment.
pub fn expand_command(args: &[String], env: &[(String, String)]) -> Vec<String> {
    let lookup = |name: &str| env.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    args.iter().map(|arg| expand(arg, lookup)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_vars(input: &str) -> String {
        expand(input, |name| match name {
            "A" => Some("alpha"),
            "EMPTY" => Some(""),
            _ => None,
        })
    }

    #[test]
    fn references_escapes_and_leftovers() {
        let cases = [
            ("$(A)", "alpha"),
            ("x-$(A)-$(A)-y", "x-alpha-alpha-y"),
            ("$(EMPTY)", ""),
            ("$(UNKNOWN)", "$(UNKNOWN)"),
            ("$$(A)", "$(A)"),
            ("$$$(A)", "$alpha"),
            ("$$", "$"),
            ("$A", "$A"),
            ("a$", "a$"),
            ("$(A", "$(A"),
            ("$()", "$()"),
            ("100%$ (A)", "100%$ (A)"),
            ("no refs", "no refs"),
            ("ü$(A)ü", "üalphaü"),
        ];
        for (input, want) in cases {
            assert_eq!(with_vars(input), want, "expanding {input:?}");
        }
    }

    #[test]
    fn commands_use_the_last_definition_of_a_name() {
        let env = vec![("HOST".to_string(), "a".to_string()), ("HOST".to_string(), "b".to_string())];
        let args = vec!["--host=$(HOST)".to_string(), "$(PORT)".to_string()];
        assert_eq!(expand_command(&args, &env), vec!["--host=b", "$(PORT)"]);
    }
}
