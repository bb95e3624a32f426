//! What rk's table should hold, kept per service port between syncs: a sync
//! rebuilds only the ports whose Service or Endpoints changed (the others
//! are compared, never rebuilt or rendered) and yields the [`Delta`] to
//! write. Elements of the shared maps remember every port that wrote them,
//! so a pod behind two services keeps its hairpin element until both let go,
//! and of two ports writing one key the greater key's value stands.

use super::blocks::Blocks;
use super::ruleset::{fixed, fragment, needs_block, shared_maps, Fragment, Layout, Ruleset};
use crate::model::ServicePortInfo;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Map or set → key → writing port's key → value.
type Elements = BTreeMap<&'static str, BTreeMap<String, BTreeMap<String, String>>>;

pub struct State {
    layout: Layout,
    /// The fixed chains (`layout`'s) and the shared maps' declarations.
    fixed: BTreeMap<String, Vec<String>>,
    maps: Vec<(String, String)>,
    /// Service port key → the port as last built, its fragment and its block.
    ports: HashMap<String, (ServicePortInfo, Fragment, Option<u32>)>,
    elements: Elements,
    blocks: Blocks,
}

/// What changed in the table: the chains, affinity sets and map elements to write or remove.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    pub added_sets: Vec<(String, String)>,
    pub added_chains: Vec<(String, Vec<String>)>,
    pub changed_chains: Vec<(String, Vec<String>)>,
    pub removed_chains: Vec<String>,
    pub removed_elements: BTreeMap<&'static str, Vec<String>>,
    pub added_elements: BTreeMap<&'static str, Vec<(String, String)>>,
    pub removed_sets: Vec<String>,
}

/// Each touched element's value before the update (None: absent).
type Before = BTreeMap<(&'static str, String), Option<String>>;

impl State {
    pub fn new(layout: Layout) -> State {
        State {
            fixed: fixed(&layout),
            maps: shared_maps(),
            layout,
            ports: HashMap::new(),
            elements: Elements::new(),
            blocks: Blocks::default(),
        }
    }

    /// Forgets every port (the table is gone).
    pub fn clear(&mut self) {
        *self = State::new(self.layout.clone());
    }

    /// Brings the state to `ports` (sorted by key); returns what changed.
    pub fn update(&mut self, ports: &[ServicePortInfo]) -> Delta {
        let current: HashSet<&str> = ports.iter().map(|p| p.key.as_str()).collect();
        let removed: Vec<String> = self.ports.keys().filter(|k| !current.contains(k.as_str())).cloned().collect();
        let changed: Vec<&ServicePortInfo> =
            ports.iter().filter(|p| self.ports.get(&p.key).is_none_or(|(last, ..)| last != *p)).collect();
        let mut before = Before::new();
        let mut old = HashMap::new();
        for key in removed.iter().chain(changed.iter().map(|p| &p.key)) {
            if let Some((_, fragment, block)) = self.ports.remove(key) {
                self.write(key, &fragment, false, &mut before);
                old.insert(key.clone(), (fragment, block));
            }
        }
        // Blocks given back first, so a port added in the same sync may take one.
        let kept: HashSet<&str> = changed.iter().filter(|p| needs_block(p)).map(|p| p.key.as_str()).collect();
        for (key, (_, block)) in &old {
            if let Some(block) = block.filter(|_| !kept.contains(key.as_str())) {
                self.blocks.release(block);
            }
        }
        let mut delta = Delta::default();
        let empty = Fragment::default();
        for port in changed {
            let (last, last_block) = old.get(&port.key).map_or((&empty, None), |(f, b)| (f, *b));
            let block = needs_block(port).then(|| last_block.unwrap_or_else(|| self.blocks.take()));
            let fragment = fragment(port, block);
            self.write(&port.key, &fragment, true, &mut before);
            delta.replace(last, &fragment);
            self.ports.insert(port.key.clone(), (port.clone(), fragment, block));
        }
        for key in &removed {
            delta.replace(&old[key].0, &empty);
        }
        for ((map, key), was) in before {
            let now = self.value(map, &key).cloned();
            if was == now {
                continue;
            }
            if was.is_some() {
                delta.removed_elements.entry(map).or_default().push(key.clone());
            }
            if let Some(value) = now {
                delta.added_elements.entry(map).or_default().push((key, value));
            }
        }
        delta
    }

    /// The value `map` holds for `key`: the greatest writing port's.
    fn value(&self, map: &str, key: &str) -> Option<&String> {
        self.elements.get(map)?.get(key)?.values().next_back()
    }

    /// Adds (or with `add` false, takes back) the port `owner`'s elements, noting the values before.
    fn write(&mut self, owner: &str, fragment: &Fragment, add: bool, before: &mut Before) {
        for (map, key, value) in &fragment.elements {
            before.entry((*map, key.clone())).or_insert_with(|| self.value(map, key).cloned());
            let writers = self.elements.entry(map).or_default().entry(key.clone()).or_default();
            match add {
                true => writers.insert(owner.to_string(), value.clone()),
                false => writers.remove(owner),
            };
            if writers.is_empty() {
                self.elements.get_mut(map).map(|keys| keys.remove(key));
            }
        }
    }

    /// The whole table as a full sync writes it.
    pub fn ruleset(&self) -> Ruleset<'_> {
        let mut ruleset = Ruleset::default();
        ruleset.chains.extend(self.fixed.iter().map(|(name, rules)| (name.as_str(), rules.as_slice())));
        ruleset.elements.extend(self.maps.iter().map(|(name, _)| (name.as_str(), BTreeMap::new())));
        for (key, (_, fragment, block)) in &self.ports {
            ruleset.chains.extend(fragment.chains.iter().map(|(name, rules)| (name.as_str(), rules.as_slice())));
            ruleset.affinity_sets.extend(fragment.affinity_sets.iter().map(|(name, d)| (name.as_str(), d.as_str())));
            if let Some(block) = block {
                ruleset.blocks.insert(key, *block);
            }
        }
        for (map, keys) in &self.elements {
            let elements = ruleset.elements.entry(map).or_default();
            for (key, writers) in keys {
                if let Some(value) = writers.values().next_back() {
                    elements.insert(key, value);
                }
            }
        }
        ruleset
    }
}

impl Delta {
    /// Notes the chains and sets of a port going from `old` to `new` (either may be empty).
    fn replace(&mut self, old: &Fragment, new: &Fragment) {
        for (name, rules) in &new.chains {
            match old.chains.iter().find(|(n, _)| n == name) {
                None => self.added_chains.push((name.clone(), rules.clone())),
                Some((_, was)) if was != rules => self.changed_chains.push((name.clone(), rules.clone())),
                Some(_) => {}
            }
        }
        for (name, _) in old.chains.iter().filter(|(n, _)| !new.chains.iter().any(|(m, _)| m == n)) {
            self.removed_chains.push(name.clone());
        }
        for set in new.affinity_sets.iter().filter(|s| !old.affinity_sets.contains(s)) {
            self.added_sets.push(set.clone());
        }
        for (name, _) in old.affinity_sets.iter().filter(|s| !new.affinity_sets.contains(s)) {
            self.removed_sets.push(name.clone());
        }
    }
}
