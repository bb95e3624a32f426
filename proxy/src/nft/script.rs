//! Renders one `nft -f` script, applied as one atomic transaction. A full
//! sync (the kernel's table only listed) rewrites every chain and recreates
//! the shared maps, keeping the affinity sets' clients; a sync after a
//! successful one writes only the [`Delta`]: the chains and elements that
//! changed.

use super::ruleset::{shared_maps, Ruleset, BASE_CHAINS};
use super::state::Delta;
use std::collections::BTreeSet;
use std::fmt::Write;

/// The chains and sets (maps included) a table listing names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listed {
    pub chains: BTreeSet<String>,
    pub sets: BTreeSet<String>,
}

impl Listed {
    /// Parses `nft -t list table ...` output (rules and set elements are skipped).
    pub fn parse(listing: &str) -> Listed {
        let mut listed = Listed::default();
        for line in listing.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["chain", name, "{"] => listed.chains.insert(name.to_string()),
                ["set" | "map", name, "{"] => listed.sets.insert(name.to_string()),
                _ => false,
            };
        }
        listed
    }
}

/// The script (empty when nothing changed) and how many rules and elements it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub text: String,
    pub written: usize,
}

/// Rewrites the whole table over what `listed` names (its contents unknown).
pub fn full(table: &str, new: &Ruleset<'_>, listed: &Listed) -> Script {
    let mut out = Writer { table: format!("ip {table}"), text: String::new(), written: 0 };
    out.full(new, listed);
    Script { text: out.text, written: out.written }
}

/// Writes only `delta`, over exactly what the last successful sync applied.
pub fn changes(table: &str, delta: &Delta) -> Script {
    let mut out = Writer { table: format!("ip {table}"), text: String::new(), written: 0 };
    out.changes(delta);
    Script { text: out.text, written: out.written }
}

struct Writer {
    table: String,
    text: String,
    written: usize,
}

impl Writer {
    fn line(&mut self, line: String) {
        self.text.push_str(&line);
        self.text.push('\n');
    }

    fn declare_chain(&mut self, name: &str) {
        let table = self.table.clone();
        match BASE_CHAINS.iter().find(|(base, ..)| *base == name) {
            Some((_, kind, hook, priority)) => self.line(format!(
                "add chain {table} {name} {{ type {kind} hook {hook} priority {priority}; policy accept; }}"
            )),
            None => self.line(format!("add chain {table} {name}")),
        }
    }

    fn rules(&mut self, name: &str, rules: &[String]) {
        for rule in rules {
            let line = format!("add rule {} {name} {rule}", self.table);
            self.line(line);
        }
        self.written += rules.len();
    }

    /// `add element` / `delete element` of many keys in one statement.
    fn elements<'a>(&mut self, verb: &str, map: &str, items: impl Iterator<Item = (&'a str, Option<&'a str>)>) {
        let mut items = items.peekable();
        if items.peek().is_none() {
            return;
        }
        let _ = write!(self.text, "{verb} element {} {map} {{ ", self.table);
        for (index, (key, value)) in items.enumerate() {
            if index > 0 {
                self.text.push_str(", ");
            }
            self.text.push_str(key);
            if let Some(value) = value.filter(|value| !value.is_empty()) {
                self.text.push_str(" : ");
                self.text.push_str(value);
            }
            self.written += usize::from(verb == "add");
        }
        self.text.push_str(" }\n");
    }

    fn full(&mut self, new: &Ruleset<'_>, listed: &Listed) {
        let table = self.table.clone();
        self.line(format!("add table {table}"));
        for name in new.chains.keys() {
            self.declare_chain(name);
        }
        // Flushing every chain unbinds the maps, so they can be made anew: adding
        // elements to a map bound by thousands of old rules costs a walk per element.
        for name in &listed.chains {
            self.line(format!("flush chain {table} {name}"));
        }
        for (name, declaration) in shared_maps() {
            if listed.sets.contains(&name) {
                self.line(format!("delete {} {table} {name}", kind(&declaration)));
            }
            self.line(format!("add {} {table} {name} {declaration}", kind(&declaration)));
        }
        for (name, declaration) in &new.affinity_sets {
            self.line(format!("add set {table} {name} {declaration}"));
        }
        for (map, elements) in &new.elements {
            self.elements("add", map, elements.iter().map(|(k, v)| (*k, Some(*v))));
        }
        for (name, rules) in &new.chains {
            self.rules(name, rules);
        }
        for name in listed.chains.iter().filter(|c| !new.chains.contains_key(c.as_str())) {
            self.line(format!("delete chain {table} {name}"));
        }
        let shared: BTreeSet<String> = shared_maps().into_iter().map(|(name, _)| name).collect();
        for name in listed.sets.iter().filter(|s| !new.affinity_sets.contains_key(s.as_str()) && !shared.contains(*s)) {
            self.line(format!("delete set {table} {name}"));
        }
    }

    fn changes(&mut self, delta: &Delta) {
        let table = self.table.clone();
        for (name, declaration) in &delta.added_sets {
            self.line(format!("add set {table} {name} {declaration}"));
        }
        for (name, _) in &delta.added_chains {
            self.declare_chain(name);
        }
        for name in delta.changed_chains.iter().map(|(name, _)| name).chain(&delta.removed_chains) {
            self.line(format!("flush chain {table} {name}"));
        }
        for (map, keys) in &delta.removed_elements {
            self.elements("delete", map, keys.iter().map(|key| (key.as_str(), None)));
        }
        for (name, rules) in delta.added_chains.iter().chain(&delta.changed_chains) {
            self.rules(name, rules);
        }
        for (map, elements) in &delta.added_elements {
            self.elements("add", map, elements.iter().map(|(key, value)| (key.as_str(), Some(value.as_str()))));
        }
        for name in &delta.removed_chains {
            self.line(format!("delete chain {table} {name}"));
        }
        for name in &delta.removed_sets {
            self.line(format!("delete set {table} {name}"));
        }
    }
}

/// `map` when the declaration maps keys to values, else `set`.
fn kind(declaration: &str) -> &'static str {
    match declaration.contains(" : ") {
        true => "map",
        false => "set",
    }
}
