//! Field selectors: `metadata.name=x,spec.nodeName!=`, matched against a
//! resource's selectable fields (see [`crate::Resource::field`]).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub value: String,
    pub equal: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    pub requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// Parses the selector, refusing fields outside `allowed` with a message that lists them.
    pub fn parse(selector: &str, allowed: &[&str]) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (field, value, equal) = if let Some((f, v)) = term.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (f, v, true)
            } else {
                return Err(format!(
                    "invalid field selector term {term:?}: expected field=value, field==value or field!=value"
                ));
            };
            let field = field.trim();
            if !allowed.contains(&field) {
                return Err(format!(
                    "field selector on {field:?} is not supported; supported fields: {}",
                    allowed.join(", ")
                ));
            }
            requirements.push(FieldRequirement { field: field.to_string(), value: value.trim().to_string(), equal });
        }
        Ok(FieldSelector { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// `lookup` returns the value of a selectable field of the object.
    pub fn matches(&self, lookup: impl Fn(&str) -> String) -> bool {
        self.requirements.iter().all(|r| (lookup(&r.field) == r.value) == r.equal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_and_inequality() {
        let s =
            FieldSelector::parse("spec.nodeName=n1,status.phase!=Running", &["spec.nodeName", "status.phase"]).unwrap();
        assert!(s.matches(|f| if f == "spec.nodeName" { "n1".into() } else { "Pending".into() }));
        assert!(!s.matches(|f| if f == "spec.nodeName" { "n1".into() } else { "Running".into() }));
        let unbound = FieldSelector::parse("spec.nodeName=", &["spec.nodeName"]).unwrap();
        assert!(unbound.matches(|_| String::new()));
    }

    #[test]
    fn unknown_fields_list_the_supported_ones() {
        let err = FieldSelector::parse("spec.image=x", &["metadata.name"]).unwrap_err();
        assert!(err.contains("supported fields: metadata.name"), "{err}");
        assert!(FieldSelector::parse("nonsense", &["metadata.name"]).is_err());
    }
}
